// Packs tfjs-moco as npm would publish it, installs the tarball with its tfjs peers into a fresh app outside
// the repository, and runs the app's smoke script (app/smoke.mjs). Shared by the package test (the peers'
// high end, from the npm cache that `npm ci` filled) and `npm run test:peers` (other peer versions).
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The tfjs peers an app installs next to tfjs-moco (the optional ones, wasm and tfjs-node, left out). */
export const TFJS_PEERS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-data'];

export interface Packed {
  tarball: string;
  /** Seconds `npm pack` took (its prepack builds dist/). */
  seconds: number;
}

/** `npm pack` in the repository (prepack compiles dist/ first) into a fresh temporary folder. */
export async function packTarball(): Promise<Packed> {
  const dest = await mkdtemp(join(tmpdir(), 'tfjs-moco-pack-'));
  const started = performance.now();
  await run('npm', ['pack', '--pack-destination', dest, '--no-fund', '--no-audit'], { cwd: repoRoot, maxBuffer: 1 << 26 });
  const [name] = (await readdir(dest)).filter((f) => f.endsWith('.tgz'));
  if (!name) throw new Error(`npm pack wrote no .tgz into ${dest}`);
  return { tarball: join(dest, name), seconds: (performance.now() - started) / 1000 };
}

export interface App {
  dir: string;
  /** Seconds the install took. */
  seconds: number;
}

/** A new app in os.tmpdir() with the tarball and the tfjs peers at `tfjsVersion` installed. */
export async function installApp(tarball: string, tfjsVersion: string, options: { preferOffline?: boolean } = {}): Promise<App> {
  const dir = await mkdtemp(join(tmpdir(), `tfjs-moco-app-${tfjsVersion}-`));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
  await copyFile(join(repoRoot, 'test', 'package', 'app', 'smoke.mjs'), join(dir, 'smoke.mjs'));
  const started = performance.now();
  const flags = ['install', '--no-audit', '--no-fund', '--loglevel=error', ...(options.preferOffline ? ['--prefer-offline'] : [])];
  await run('npm', [...flags, tarball, ...TFJS_PEERS.map((p) => `${p}@${tfjsVersion}`)], { cwd: dir, maxBuffer: 1 << 26 });
  return { dir, seconds: (performance.now() - started) / 1000 };
}

export interface SmokeResult {
  backend: string;
  tfjsVersion: string;
  lossId: string;
  lossCalls: number;
  losses: number[];
  maxDiff: number;
  featureShape: number[];
  featuresNonZero: boolean;
  missing: string[];
}

/** Runs smoke.mjs in the app and parses its `SMOKE {...}` line. */
export async function runSmoke(app: string): Promise<SmokeResult> {
  const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: app, maxBuffer: 1 << 26 });
  const line = stdout.split('\n').find((l) => l.startsWith('SMOKE '));
  if (!line) throw new Error(`smoke.mjs printed no SMOKE line:\n${stdout}`);
  return JSON.parse(line.slice('SMOKE '.length)) as SmokeResult;
}

/** Runs the app's installed `tfjs-moco` bin; never throws for a non-zero exit. */
export async function runBin(app: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(app, 'node_modules', '.bin', 'tfjs-moco'), ...args], { cwd: app, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
