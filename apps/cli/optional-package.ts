// Packages only some CLI commands need (the report's plots: vega and vega-lite) are optional peers of
// tfjs-moco: a library user does not install them. They are imported when a command needs them, and a
// missing one becomes a one-line CliError naming what to install.
import { CliError } from './cli-error.js';

/** Version ranges to install, as in package.json's peerDependencies. */
export const OPTIONAL_PACKAGES = Object.freeze({
  vega: '^6.4.0',
  'vega-lite': '~6.4.3',
  'fashion-mnist': '^1.1.0',
});

export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** The install command for the given optional packages. */
export function installHint(names: readonly string[]): string {
  const ranges: Record<string, string> = OPTIONAL_PACKAGES;
  return `npm install ${names.map((n) => (ranges[n] ? `${n}@${ranges[n]}` : n)).join(' ')}`;
}

function isMissing(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(`'${name}'`);
}

/**
 * Imports an optional package, or throws a CliError saying which command needs it and how to install it.
 *
 * @example
 * const vega = await importOptional<typeof import('vega')>('vega', 'the report plot', ['vega', 'vega-lite']);
 */
export async function importOptional<T>(name: OptionalPackage | (string & {}), purpose: string, installTogether: readonly string[] = [name]): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    if (isMissing(err, name)) {
      throw new CliError(`${purpose} needs the optional package ${name}, which is not installed: ${installHint(installTogether)}`);
    }
    throw err;
  }
}
