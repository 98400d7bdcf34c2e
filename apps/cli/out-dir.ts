// `pretrain --out DIR`, checked before any work (no data loaded, no speed measured): the folder must be creatable,
// must not be a file, and must hold no other run and no user files, so that two runs never share one
// events.jsonl and nothing of the user's is overwritten.
//
// What a folder may hold, and what pretrain does with it:
//   absent or empty                          → used
//   a resumable run (checkpoint/manifest.json) → refused: continue it with `tfjs-moco resume`, or --overwrite
//   a finished or stopped tfjs-moco run       → refused unless --overwrite, which removes the run's own files
//   anything else (files tfjs-moco did not write: no tfjs-moco config.json, or extra entries beside one)
//                                              → refused, even with --overwrite: tfjs-moco deletes only its own files
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './cli-error.js';

/** Every entry a pretrain run writes into its --out folder (what --overwrite may delete). */
export const RUN_FILES = ['config.json', 'events.jsonl', 'checkpoint', 'model.json', 'weights.bin', 'results.json', 'report.md', 'report.svg'] as const;

async function kind(path: string): Promise<'missing' | 'dir' | 'file'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR') return 'file';
    throw new CliError(`--out ${path}: cannot be read (${(err as Error).message})`);
  }
}

/**
 * Create `dir` one level at a time, from its first existing ancestor down. Node 20's `mkdir(…, { recursive: true })`
 * loops forever at 100 % CPU on some special file systems (e.g. under /proc); a plain mkdir per level fails
 * there at once, with the level that cannot be made.
 */
export async function makeDirs(dir: string, flag = '--out'): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const k = await kind(at);
    if (k === 'dir') break;
    if (k === 'file') throw new CliError(`${flag} ${dir}: ${at} is a file, not a folder`);
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && (await kind(level)) === 'dir') continue;
      throw new CliError(`${flag} ${dir}: cannot create the folder ${level} (${e.code ?? e.message}); choose an --out on a writable disk`);
    }
  }
}

/** Whether `dir` holds a tfjs-moco run record (config.json written by pretrain). */
async function isRunFolder(dir: string): Promise<boolean> {
  try {
    const record = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { tool?: unknown; command?: unknown };
    return record?.tool === 'tfjs-moco' && record.command === 'pretrain';
  } catch {
    return false;
  }
}

/** A run folder's state: its checkpoint is short of the plan's end (resumable), at it (finished), or absent. */
export async function runState(dir: string): Promise<'resumable' | 'finished' | 'no-checkpoint'> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'checkpoint', 'manifest.json'), 'utf8')) as { position?: { step?: number } };
    const record = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { plan?: { totalSteps?: number } };
    const step = manifest.position?.step ?? 0;
    const total = record.plan?.totalSteps ?? Infinity;
    return step >= total ? 'finished' : 'resumable';
  } catch {
    return 'no-checkpoint';
  }
}

/**
 * Make `out` ready for a new run, or explain in one line why it cannot be used. Returns the absolute path.
 * `overwrite`: the user passed --overwrite (a previous run's own files are removed; foreign files never are).
 */
export async function prepareOutDir(out: string, overwrite: boolean): Promise<string> {
  const dir = resolve(out);
  const k = await kind(dir);
  if (k === 'file') throw new CliError(`--out ${dir}: is a file, not a folder; choose another --out`);
  if (k === 'missing') {
    await makeDirs(dir);
    return dir;
  }
  const entries = await readdir(dir);
  if (entries.length === 0) return dir;
  const run = await isRunFolder(dir);
  const foreign = entries.filter((e) => !run || !(RUN_FILES as readonly string[]).includes(e));
  if (foreign.length > 0) {
    const list = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} entries)` : '');
    throw new CliError(
      `--out ${dir}: not empty and not a tfjs-moco run folder (holds ${list}); tfjs-moco writes only into an empty or new folder, and --overwrite deletes only a previous run's own files: choose another --out`,
    );
  }
  const state = await runState(dir);
  if (!overwrite) {
    if (state === 'resumable') {
      throw new CliError(`--out ${dir}: holds a run that can be continued: \`tfjs-moco resume --out ${dir}\` (or pass --overwrite to delete it and start over)`);
    }
    const what = state === 'finished' ? 'a finished run' : 'a run that stopped before its first checkpoint (nothing to resume)';
    throw new CliError(`--out ${dir}: holds ${what}; pass --overwrite to delete it and start over, or choose another --out`);
  }
  for (const e of entries) {
    await rm(join(dir, e), { recursive: true, force: true });
  }
  return dir;
}
