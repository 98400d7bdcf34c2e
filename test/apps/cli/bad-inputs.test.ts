// A corpus of bad inputs (data, configs, paths, checkpoints, encoders), each with the one-line message it must
// give and its exit code, and nothing that looks like success (results.json, model.json) left behind; and a
// diverging run (lr 1e6) that stops at its first non-finite step with exit code 3 and an intact checkpoint.
import test from 'ava';
import { cp, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '../../../src/index.js';
import { TINY_RUN, cli, writeIdxFolder } from './helpers.js';

const root = await mkdtemp(join(tmpdir(), 'tfjs-moco-bad-'));
const data = join(root, 'idx');
await writeIdxFolder(data, 32, 8);
const tiny = join(root, 'tiny.json');
await writeFile(tiny, JSON.stringify({ ...TINY_RUN, epochs: 1, knnEvery: 0, evaluation: { ...TINY_RUN.evaluation, probe: false }, checkpointEvery: { steps: 1 } }));
const withConfig = async (name: string, change: Record<string, unknown>) => {
  const path = join(root, `${name}.json`);
  await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(tiny, 'utf8')), ...change }));
  return path;
};
const exists = (p: string) => stat(p).then(() => true, () => false);

// Two short runs to damage: A (K 16, 16-d head) stopped at step 2, B (K 8, 8-d head) stopped at step 2.
const runA = join(root, 'runA');
const runB = join(root, 'runB');
const configB = await withConfig('b', { moco: { ...TINY_RUN.moco, head: { hidden: 16, dim: 8 }, dictionary: { size: 8 } } });
const made = Promise.all([
  cli(['pretrain', '--config', tiny, '--data', `idx:${data}`, '--out', runA, '--stop-after', '2']),
  cli(['pretrain', '--config', configB, '--data', `idx:${data}`, '--out', runB, '--stop-after', '2']),
]);

/** A copy of run A with `damage` applied. */
async function damagedCopy(name: string, damage: (dir: string) => Promise<void>): Promise<string> {
  await made;
  const dir = join(root, name);
  await cp(runA, dir, { recursive: true });
  await rm(join(dir, 'model.json'), { force: true });
  await rm(join(dir, 'results.json'), { force: true });
  await damage(dir);
  return dir;
}

type Case = { name: string; args: () => Promise<string[]>; message: RegExp; code?: number; out?: () => string };
const idx = (dims: number[], body: number[]): Uint8Array => {
  const b = new Uint8Array(4 + 4 * dims.length + body.length);
  b[2] = 8;
  b[3] = dims.length;
  dims.forEach((d, i) => new DataView(b.buffer).setUint32(4 + 4 * i, d, false));
  b.set(body, 4 + 4 * dims.length);
  return b;
};
async function idxSet(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [f, b] of Object.entries(files)) await writeFile(join(dir, f), b);
  return dir;
}
const pretrain = (extra: string[], out: string, config = tiny) => ['pretrain', '--config', config, '--out', out, ...extra];
const outOf = (n: string) => join(root, 'out', n);

const cases: Case[] = [
  // data
  { name: 'data: missing folder', args: async () => pretrain(['--data', `idx:${join(root, 'nope')}`], outOf('d1')), message: /nope: no such file or directory$/ },
  { name: 'data: IDX with 0 images', args: async () => pretrain(['--data', `idx:${await idxSet('zero', { 'train-images-idx3-ubyte': idx([0, 8, 8], []) })}`], outOf('d2')), message: /train-images-idx3-ubyte: holds 0 images: nothing to train on$/ },
  { name: 'data: wrong magic', args: async () => pretrain(['--data', `idx:${await idxSet('magic', { 'train-images-idx3-ubyte': Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 0]) })}`], outOf('d3')), message: /wrong magic number/ },
  { name: 'data: truncated IDX', args: async () => pretrain(['--data', `idx:${await idxSet('trunc', { 'train-images-idx3-ubyte': idx([4, 8, 8], [1, 2, 3]) })}`], outOf('d4')), message: /train-images-idx3-ubyte: .*bytes/ },
  { name: 'data: labels do not match images', args: async () => pretrain(['--data', `idx:${await idxSet('labels', { 'train-images-idx3-ubyte': idx([2, 8, 8], Array(128).fill(9)), 'train-labels-idx1-ubyte': idx([3], [0, 1, 2]) })}`], outOf('d5')), message: /has 3 labels but .* has 2 images/ },
  { name: 'data: too few to hold out', args: async () => pretrain(['--data', `idx:${await idxSet('one', { 'train-images-idx3-ubyte': idx([1, 8, 8], Array(64).fill(9)), 'train-labels-idx1-ubyte': idx([1], [0]) })}`], outOf('d6')), message: /1 labelled image, too few to hold out a test set/ },
  { name: 'data: unknown spec', args: async () => pretrain(['--data', 'imagenet'], outOf('d7')), message: /--data: expected fashion-mnist, idx:DIR or folder:DIR, got 'imagenet'$/ },
  // configs
  { name: 'config: missing file', args: async () => pretrain(['--data', `idx:${data}`], outOf('c1'), join(root, 'none.json')), message: /--config .*none\.json: no such file$/ },
  { name: 'config: not JSON', args: async () => { const p = join(root, 'broken.json'); await writeFile(p, '{ "epochs": '); return pretrain(['--data', `idx:${data}`], outOf('c2'), p); }, message: /broken\.json: not valid JSON/ },
  { name: 'config: unknown key inside moco', args: async () => pretrain(['--data', `idx:${data}`], outOf('c3'), await withConfig('optimiser', { moco: { optimiser: { learningRate: 1 } } })), message: /error: moco: unknown option\(s\) 'optimiser'$/ },
  { name: 'config: dictionary smaller than a batch', args: async () => pretrain(['--data', `idx:${data}`], outOf('c4'), await withConfig('k4', { moco: { ...TINY_RUN.moco, dictionary: { size: 4 } } })), message: /error: dictionary\.size: / },
  { name: 'config: negative learning rate', args: async () => pretrain(['--data', `idx:${data}`], outOf('c5'), await withConfig('lr', { moco: { ...TINY_RUN.moco, optimizer: { learningRate: -1 } } })), message: /optimizer\.learningRate/ },
  { name: 'config: unknown preset', args: async () => pretrain(['--data', `idx:${data}`, '--preset', 'mocov9'], outOf('c6')), message: /--preset mocov9: no such preset/ },
  { name: 'config: more workers than cores', args: async () => pretrain(['--data', `idx:${data}`, '--workers', '64'], outOf('c7')), message: /--workers 64: this machine has \d+ cores? available/ },
  // paths
  { name: 'path: --out under /proc', args: async () => pretrain(['--data', `idx:${data}`], '/proc/foo/run'), message: /--out \/proc\/foo\/run: cannot create the folder \/proc\/foo/ },
  { name: 'path: --out is a file', args: async () => pretrain(['--data', `idx:${data}`], tiny), message: /tiny\.json: is a file, not a folder/ },
  {
    name: "path: --out holding the user's files (even with --overwrite)",
    args: async () => { const d = outOf('p3'); await mkdir(d, { recursive: true }); await writeFile(join(d, 'model.json'), 'mine'); await writeFile(join(d, 'results.json'), 'mine'); return pretrain(['--data', `idx:${data}`, '--overwrite'], d); },
    message: /not empty and not a tfjs-moco run folder \(holds model\.json, results\.json\)/,
    out: () => 'user-files',
  },
  { name: 'path: --out holding a resumable run', args: async () => (await made, pretrain(['--data', `idx:${data}`], runA)), message: /holds a run that can be continued: `tfjs-moco resume --out .*runA`/, out: () => 'keep' },
  { name: 'path: --out of a run killed before its first checkpoint', args: async () => pretrain(['--data', `idx:${data}`], await damagedCopy('nock', (d) => rm(join(d, 'checkpoint'), { recursive: true }))), message: /stopped before its first checkpoint.*--overwrite/ },
  { name: 'path: resume of a folder without a run', args: async () => ['resume', '--out', join(root, 'nothing')], message: /no config\.json: not a folder written by tfjs-moco pretrain$/ },
  { name: 'path: resume of a file', args: async () => ['resume', '--out', tiny], message: /tiny\.json: is a file, not a run folder$/ },
  // checkpoints
  { name: 'checkpoint: corrupt manifest.json', args: async () => ['resume', '--out', await damagedCopy('badman', (d) => writeFile(join(d, 'checkpoint', 'manifest.json'), '{"format":'))], message: /the checkpoint is damaged: .*manifest\.json: not valid JSON/ },
  {
    name: 'checkpoint: truncated data file',
    args: async () => ['resume', '--out', await damagedCopy('badbin', async (d) => { const m = JSON.parse(await readFile(join(d, 'checkpoint', 'manifest.json'), 'utf8')); await truncate(join(d, 'checkpoint', m.tensors.file), 100); })],
    message: /holds 100 bytes, the manifest says \d+: damaged or incomplete/,
  },
  { name: 'checkpoint: none to resume', args: async () => ['resume', '--out', await damagedCopy('nockr', (d) => rm(join(d, 'checkpoint'), { recursive: true }))], message: /nothing to resume/ },
  {
    name: "checkpoint: another config's checkpoint copied in",
    args: async () => ['resume', '--out', await damagedCopy('foreign', async (d) => { await rm(join(d, 'checkpoint'), { recursive: true }); await cp(join(runB, 'checkpoint'), join(d, 'checkpoint'), { recursive: true }); })],
    message: /written by a different run, refusing to continue it: dictionary\.size: checkpoint 8, this run 16; head\.dim: checkpoint 8, this run 16/,
  },
  // encoders
  { name: 'encoder: missing folder', args: async () => ['eval', '--encoder', join(root, 'noenc'), '--data', `idx:${data}`, '--backend', 'cpu'], message: /--encoder .*noenc: no model\.json there/ },
  {
    name: 'encoder: truncated weights.bin',
    args: async () => { await made; const d = join(root, 'enc'); await mkdir(d, { recursive: true }); await cp(join(runA, 'model.json'), join(d, 'model.json')); await writeFile(join(d, 'weights.bin'), new Uint8Array(await readFile(join(runA, 'weights.bin'))).slice(0, 100)); return ['eval', '--encoder', d, '--data', `idx:${data}`, '--backend', 'cpu']; },
    message: /enc\/weights\.bin: holds 100 bytes of weights, model\.json's weightsManifest needs \d+: truncated/,
  },
  { name: 'encoder: model.json not JSON', args: async () => { const d = join(root, 'enc2'); await mkdir(d, { recursive: true }); await writeFile(join(d, 'model.json'), '{'); return ['eval', '--encoder', d, '--data', `idx:${data}`, '--backend', 'cpu']; }, message: /enc2\/model\.json: cannot read the model/ },
];

test.after.always(() => rm(root, { recursive: true, force: true }));

test.serial(`a corpus of ${cases.length} bad inputs: one line each, naming the culprit; non-zero exit; no results or model left`, async (t) => {
  const r0 = await made;
  t.deepEqual(r0.map((r) => r.code), [0, 0], r0.map((r) => r.err).join('\n'));
  for (const c of cases) {
    const args = await c.args();
    const r = await cli(args);
    const last = r.err.trim().split('\n').at(-1)!;
    t.is(r.code, c.code ?? 1, `${c.name}: ${last}`);
    t.regex(last, /^tfjs-moco: error: /, c.name);
    t.regex(last, c.message, c.name);
    const outAt = args.indexOf('--out');
    const out = outAt >= 0 ? args[outAt + 1] : undefined;
    if (out && args[0] === 'pretrain' && c.out === undefined) {
      t.false(await exists(join(out, 'results.json')), `${c.name}: no results.json`);
      t.false(await exists(join(out, 'model.json')), `${c.name}: no model.json`);
    }
    if (c.out?.() === 'user-files') t.is(await readFile(join(out!, 'model.json'), 'utf8'), 'mine', "the user's file is untouched");
  }
});

test.serial('resume of a finished run says so and does nothing; --overwrite starts a finished folder over with a fresh events.jsonl', async (t) => {
  const out = join(root, 'finished');
  t.is((await cli(pretrain(['--data', `idx:${data}`], out))).code, 0);
  const r = await cli(['resume', '--out', out]);
  t.is(r.code, 0);
  t.regex(r.out, /the run already finished \(step 4 of 4, results in results\.json\); nothing to resume/);
  const again = await cli(pretrain(['--data', `idx:${data}`], out));
  t.regex(again.err, /holds a finished run; pass --overwrite/);
  t.is((await cli(pretrain(['--data', `idx:${data}`, '--overwrite'], out))).code, 0);
  const starts = (await readFile(join(out, 'events.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"run-started"'));
  t.is(starts.length, 1, 'one run in events.jsonl');
});

test.serial('a diverging run (lr 1e6) stops at its first non-finite step: exit 3, last checkpoint finite and loadable, no results or model, a report', async (t) => {
  const out = join(root, 'diverge');
  const config = await withConfig('diverge', { epochs: 2, checkpointEvery: { steps: 2 }, moco: { ...TINY_RUN.moco, optimizer: { learningRate: 1e6 } } });
  const r = await cli(pretrain(['--data', `idx:${data}`], out, config));
  t.log(r.err.split('\n').filter((l) => !l.startsWith('====') && !l.includes('looks like')).join('\n'));
  t.is(r.code, 3);
  const last = r.err.trim().split('\n').at(-1)!;
  t.regex(last, /^tfjs-moco: error: training diverged at step (\d+): .*not finite|^tfjs-moco: error: training diverged at step \d+: (loss|gradient norm|BatchNorm)/);
  t.regex(last, /No model or results were written; the checkpoint in .* is from before step \d+$/);
  t.false(await exists(join(out, 'results.json')));
  t.false(await exists(join(out, 'model.json')));
  const step = Number(/diverged at step (\d+)/.exec(last)![1]);
  const report = await readFile(join(out, 'report.md'), 'utf8');
  t.regex(report, /Stopped: training diverged at step/);
  if (await exists(join(out, 'checkpoint', 'manifest.json'))) {
    const saved = await readCheckpoint(join(out, 'checkpoint'));
    t.true(saved.manifest.position.step <= step);
    for (const tensor of Object.values(saved.tensors)) t.true(tensor.dataSync().every(Number.isFinite), 'the checkpoint is finite');
    for (const tensor of Object.values(saved.tensors)) tensor.dispose();
  }
});
