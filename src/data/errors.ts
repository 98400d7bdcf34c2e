/**
 * The one error type the data module throws for bad input: a missing or unreadable path, a malformed or
 * truncated file, inconsistent sizes. `path` is the file or folder at fault, so a caller (the CLI, a config
 * validator) can point at it without parsing the message; the message repeats it so a plain log line is
 * enough on its own.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** The file or folder at fault (for a missing package: the package name). */
  readonly path: string;
  /** The problem alone, without the path prefix. */
  readonly problem: string;

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options);
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Turns a Node file-system error into a DataError naming the path; anything else passes through unchanged, so a
 * bug is not disguised as bad input.
 */
export function fsErrorToDataError(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new DataError(path, 'no such file or directory', { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new DataError(path, 'permission denied', { cause: err });
    case 'EISDIR':
      return new DataError(path, 'is a directory, expected a file', { cause: err });
    case 'ENOTDIR':
      return new DataError(path, 'is not a directory (or a parent of it is a file)', { cause: err });
    default:
      return err;
  }
}
