// kill -9 the real CLI at random points, resume each time, and check the run ends exactly as an uninterrupted
// one with the same seed: the same loss at every step, byte-identical weights.bin.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_RUN, writeIdxFolder } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/tfjs-moco.js', import.meta.url));
const root = await mkdtemp(join(tmpdir(), 'tfjs-moco-kill-'));
const data = join(root, 'idx');
await writeIdxFolder(data, 32, 8);
const config = join(root, 'tiny.json');
await writeFile(config, JSON.stringify({ ...TINY_RUN, epochs: 3, knnEvery: 0, evaluation: { ...TINY_RUN.evaluation, probe: false }, checkpointEvery: { steps: 1 } }));
test.after.always(() => rm(root, { recursive: true, force: true }));

/** Run the executable; with `killAfterMs`, SIGKILL it then. Resolves with the exit code (null when killed). */
function exe(args: string[], killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const exists = (p: string) => stat(p).then(() => true, () => false);
/** Loss per step from events.jsonl (a resumed run repeats steps after its last checkpoint: the last wins). */
async function losses(dir: string): Promise<number[]> {
  const byStep = new Map<number, number>();
  for (const line of (await readFile(join(dir, 'events.jsonl'), 'utf8')).split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { type: string; step: number; loss: number };
    if (e.type === 'step') byStep.set(e.step, e.loss);
  }
  return [...byStep.keys()].sort((a, b) => a - b).map((k) => byStep.get(k)!);
}

test('kill -9 at random points, resumed each time: losses and weights exactly those of an uninterrupted run', async (t) => {
  const pretrain = (out: string, extra: string[] = []) => ['pretrain', '--config', config, '--data', `idx:${data}`, '--out', out, ...extra];
  const straight = join(root, 'straight');
  t.is(await exe(pretrain(straight)), 0);
  const out = join(root, 'killed');
  // A seeded draw of kill times (ms after start): start-up alone takes ~3-5 s on a busy 2-core machine, so some land before the first
  // checkpoint (then the folder holds nothing to resume and is started over with --overwrite), some mid-run.
  let s = 7;
  const draw = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % 5000) + 5000;
  const trials: string[] = [];
  let started = false;
  for (let kill = 0; kill < 3; kill++) {
    const resumable = started && (await exists(join(out, 'checkpoint', 'manifest.json')));
    const args = resumable ? ['resume', '--out', out] : pretrain(out, started ? ['--overwrite'] : []);
    const ms = draw();
    const code = await exe(args, ms);
    started = true;
    trials.push(`${args[0]} killed at ${ms} ms (exit ${code})`);
    if (code === 0) break; // finished before the kill
  }
  if (!(await exists(join(out, 'results.json')))) {
    const resumable = await exists(join(out, 'checkpoint', 'manifest.json'));
    t.is(await exe(resumable ? ['resume', '--out', out] : pretrain(out, ['--overwrite'])), 0);
  }
  t.log(trials.join('; '));
  t.deepEqual(await losses(out), await losses(straight), 'the same loss at every step');
  t.is((await readFile(join(out, 'weights.bin'))).toString('hex'), (await readFile(join(straight, 'weights.bin'))).toString('hex'), 'byte-identical weights.bin');
  const a = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  const b = JSON.parse(await readFile(join(straight, 'results.json'), 'utf8'));
  t.deepEqual(a, b);
});
