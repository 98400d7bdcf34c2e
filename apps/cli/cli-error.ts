/** A problem the user can fix (bad flag, bad path...): printed as one line, without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** Process exit code. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The one line printed for an error: its message's first line (the rest is detail for --verbose). */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length <= 1 ? (lines[0] ?? 'unknown error') : `${lines[0]} (+${lines.length - 1} more: run with --verbose)`;
}
