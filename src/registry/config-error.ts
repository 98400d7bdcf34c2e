/** A configuration problem found at load time. `field` is the dotted path, e.g. `dictionary.size`. */
export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Thrown when two plugins bind the same strategy id in one family. */
export class DuplicateStrategyError extends Error {
  constructor(readonly family: string, readonly id: string, readonly plugins: readonly [string, string]) {
    super(`${family} strategy '${id}' is registered twice: by plugin '${plugins[0]}' and by plugin '${plugins[1]}'. Rename one id or load only one of the plugins.`);
    this.name = 'DuplicateStrategyError';
  }
}

/** One ConfigError from several `field: message` lines; the first line's field names the error. */
export function configErrorFromLines(lines: readonly string[]): ConfigError {
  const split = (l: string) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as const;
  const [field, first] = split(lines[0]);
  return new ConfigError(field, lines.length > 1 ? `${first}\n  ${lines.slice(1).join('\n  ')}` : first);
}
