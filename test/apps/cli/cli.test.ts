import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadModel, readCheckpointManifest, type MocoEvent } from '../../../src/index.js';
import { TINY_RUN, cli, writeIdxFolder } from './helpers.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/tfjs-moco.js', import.meta.url));
const root = await mkdtemp(join(tmpdir(), 'tfjs-moco-cli-'));
const dataDir = join(root, 'idx');
await writeIdxFolder(dataDir);
const configPath = join(root, 'tiny.json');
await writeFile(configPath, JSON.stringify(TINY_RUN));
test.after.always(() => rm(root, { recursive: true, force: true }));

/** The executable, as a user runs it: exit code, stdout, stderr. */
async function exe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The uninterrupted tiny run (once; both the output test and the resume test compare with it). */
let straight: Promise<{ code: number; out: string; err: string }> | undefined;
const straightRun = () => (straight ??= cli(['pretrain', '--config', configPath, '--data', `idx:${dataDir}`, '--out', join(root, 'run')]));

async function readEvents(dir: string): Promise<MocoEvent[]> {
  return (await readFile(join(dir, 'events.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MocoEvent);
}

test('bin/tfjs-moco.js --help exits 0 and lists the commands', async (t) => {
  const r = await exe(['--help']);
  t.is(r.code, 0);
  for (const command of ['pretrain', 'eval', 'resume']) t.regex(r.stdout, new RegExp(`^\\s+${command} \\[options\\]`, 'm'));
});

test('a bad --data path: non-zero exit, one line naming the path, no stack trace', async (t) => {
  const missing = join(root, 'no-such-folder');
  const r = await exe(['pretrain', '--data', `idx:${missing}`, '--backend', 'cpu', '--out', join(root, 'never')]);
  t.not(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.at(-1), `tfjs-moco: error: ${missing}: no such file or directory`);
  t.false(/^\s+at /m.test(r.stderr), 'no stack trace');
});

test.serial('--help of every command exits 0; usage and config errors are one line naming the culprit', async (t) => {
  for (const command of ['pretrain', 'eval', 'resume']) {
    const r = await cli([command, '--help']);
    t.is(r.code, 0, command);
    t.regex(r.out, new RegExp(`Usage: tfjs-moco ${command} \\[options\\]`));
  }
  t.regex((await cli(['pretrain', '--help'])).out, /--knn-every <n>[\s\S]*--quick/);
  const cases: [string[], RegExp][] = [
    [['pretrain', '--data', 'imagenet'], /^tfjs-moco: error: --data: expected fashion-mnist, idx:DIR or folder:DIR, got 'imagenet'$/],
    [['pretrain', '--epochs', '0'], /^tfjs-moco: error: option '--epochs <n>' argument '0' is invalid/],
    [['pretrain', '--backend', 'gpu'], /^tfjs-moco: error: option '--backend <name>' argument 'gpu' is invalid/],
    [['eval', '--data', 'fashion-mnist'], /^tfjs-moco: error: required option '--encoder <dir>' not specified$/],
    [['resume', '--out', join(root, 'nothing-here')], /^tfjs-moco: error: --out .*nothing-here: no config\.json: not a folder written by tfjs-moco pretrain$/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    t.not(r.code, 0, args.join(' '));
    t.regex(r.err.trim().split('\n').at(-1)!, message);
  }
  const bad = join(root, 'bad.json');
  await writeFile(bad, JSON.stringify({ ...TINY_RUN, moco: { ...TINY_RUN.moco, dictionary: { size: 4 } } }));
  const r = await cli(['pretrain', '--config', bad, '--data', `idx:${dataDir}`, '--out', join(root, 'bad-run')]);
  t.is(r.code, 1);
  t.regex(r.err.split('\n').at(-1)!, /^tfjs-moco: error: dictionary\.size: .*/);
  await writeFile(bad, JSON.stringify({ ...TINY_RUN, epoch: 3 }));
  t.regex((await cli(['pretrain', '--config', bad])).err, /tfjs-moco: error: --config .*bad\.json: \(root\): Unrecognized key: "epoch"/);
});

test.serial('MoCo flags: bad values and flags the chosen strategy does not take are errors naming the flag', async (t) => {
  t.regex((await cli(['pretrain', '--help'])).out, /--preset <name>[\s\S]*--queue-size <K>[\s\S]*--key-momentum <m>[\s\S]*--temperature <t>/);
  const cases: [string[], RegExp][] = [
    [['pretrain', '--queue-size', '0'], /^tfjs-moco: error: option '--queue-size <K>' argument '0' is invalid\. expected an integer ≥ 1\.$/],
    [['pretrain', '--key-momentum', '1.5'], /^tfjs-moco: error: option '--key-momentum <m>' argument '1\.5' is invalid\. expected a number from 0 to 1\.$/],
    [['pretrain', '--temperature', '-1'], /^tfjs-moco: error: option '--temperature <t>' argument '-1' is invalid\. expected a positive number\.$/],
    [['pretrain', '--temperature', '20'], /^tfjs-moco: error: --temperature 20: loss\.temperature: .*<=\s*10.*\(got 20\)$/],
    [['pretrain', '--preset', 'mocov9'], /^tfjs-moco: error: --preset mocov9: no such preset; registered: default, end-to-end, fmnist-default, memory-bank, mocov1, mocov2$/],
    [
      ['pretrain', '--preset', 'memory-bank', '--queue-size', '512'],
      /^tfjs-moco: error: --queue-size 512: dictionary 'memory-bank' has no option 'size' \(it takes: negatives, bankMomentum\); .*drop --queue-size$/,
    ],
    [['pretrain', '--preset', 'end-to-end', '--key-momentum', '0.9'], /^tfjs-moco: error: --key-momentum 0\.9: update 'shared' has no option 'keyEncoderMomentum'/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    t.not(r.code, 0, args.join(' '));
    t.regex(r.err.trim().split('\n').at(-1)!, message);
  }
});

test.serial('precedence: preset < config file < flags, resolved once into the run record and the report', async (t) => {
  const out = join(root, 'flags-run');
  // The file sets K 16 over the preset's 4096; the flags win over the file and the preset.
  const r = await cli(['pretrain', '--config', configPath, '--data', `idx:${dataDir}`, '--out', out, '--epochs', '1', '--knn-every', '0', '--queue-size', '24', '--key-momentum', '0.9', '--temperature', '0.2']);
  t.is(r.code, 0, r.err);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  t.like(config.run.moco, { preset: 'fmnist-default', dictionary: { size: 24 }, update: { keyEncoderMomentum: 0.9 }, loss: { temperature: 0.2 }, normalization: { groups: 2 } });
  t.like(config.moco, {
    preset: 'fmnist-default',
    dictionary: { id: 'queue', size: 24 },
    update: { id: 'momentum', keyEncoderMomentum: 0.9 },
    loss: { id: 'infonce', temperature: 0.2 },
    normalization: { id: 'shuffle-bn', groups: 2 },
    head: { type: 'mlp', dim: 16, hidden: 16 },
    optimizer: { learningRate: 0.06, schedule: 'cosine', weightDecay: 5e-4 },
  });
  const steps = (await readEvents(out)).filter((e) => e.type === 'step') as Extract<MocoEvent, { type: 'step' }>[];
  t.true(steps.length > 0 && steps.every((e) => e.dictionarySize === 24 && e.keyEncoderMomentum === 0.9));
  const report = await readFile(join(out, 'report.md'), 'utf8');
  t.regex(report, /queue K 24, momentum m 0\.9, InfoNCE τ 0\.2, lr 0\.06 cosine, wd 0\.0005, shuffle-bn, 2 groups, mlp head 16-d, augmentation mocov1/);
});

test.serial('pretrain writes encoder, config, events, checkpoint and report; eval prints JSON with kNN and baselines', async (t) => {
  const out = join(root, 'run');
  const r = await straightRun();
  t.is(r.code, 0, r.err);
  t.regex(r.err, /^backend: cpu /m);
  t.regex(r.out, /^kNN: [\d.]+ % \(random init [\d.]+ %, raw pixels [\d.]+ %/m);
  // The summary line: the encoder's numbers on the named split, and a verdict per baseline, in stdout,
  // results.json and report.md alike.
  const summary = /^encoder kNN [\d.]+ % \/ linear [\d.]+ % \(full split, 48 \/ 16\) — (beats|does not beat) raw pixels .*; (beats|does not beat) random init .*$/m.exec(r.out)?.[0];
  t.truthy(summary, r.out);
  t.is(JSON.parse(await readFile(join(out, 'results.json'), 'utf8')).summary, summary);
  t.true((await readFile(join(out, 'report.md'), 'utf8')).includes(`**Summary**: ${summary}.`));
  const files = await readdir(out);
  for (const f of ['model.json', 'weights.bin', 'config.json', 'events.jsonl', 'checkpoint', 'report.md', 'report.svg', 'results.json']) t.true(files.includes(f), f);

  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  t.like(config, { run: { batchSize: 8, epochs: 3, model: { name: 'tiny' } }, plan: { epochs: 3, totalSteps: 18 }, backend: { name: 'cpu' } });
  t.like(config.moco, { dictionary: { id: 'queue', size: 16 }, update: { keyEncoderMomentum: 0.99 }, loss: { temperature: 0.1 }, optimizer: { schedule: 'cosine' } });

  const events = await readEvents(out);
  const steps = events.filter((e) => e.type === 'step');
  t.deepEqual(steps.map((e) => (e as { step: number }).step), [...Array(18).keys()]);
  const knn = events.filter((e) => e.type === 'evaluation' && e.metric === 'knn');
  t.is(knn.length, 3, 'the kNN monitor ran after every epoch');
  for (const e of knn) t.like(e, { baselines: { rawPixels: 1 } });
  t.true(events.some((e) => e.type === 'checkpoint-saved'));
  t.like(events.find((e) => e.type === 'run-ended'), { reason: 'completed', steps: 18 });
  t.like(await readCheckpointManifest(join(out, 'checkpoint')), { position: { step: 18, epoch: 3 } });

  const report = await readFile(join(out, 'report.md'), 'utf8');
  t.regex(report, /\| \*\*MoCo encoder\*\* \| \*\*[\d.]+ %\*\* \| \*\*[\d.]+ %\*\* \|/);
  t.regex(report, /\| same encoder at random init \| [\d.]+ % \| [\d.]+ % \|/);
  t.regex(report, /\| raw pixels \| [\d.]+ % \| [\d.]+ % \|/);
  const svg = await readFile(join(out, 'report.svg'), 'utf8');
  t.true(svg.startsWith('<svg'));
  t.regex(svg, /kNN accuracy/);
  t.regex(svg, /role-legend[\s\S]*>random init<[\s\S]*>raw pixels</, 'the kNN plot has its legend');
  const encoder = await loadModel(out);
  t.deepEqual(encoder.inputs[0].shape, [null, 8, 8, 1]);
  encoder.dispose();

  const e = await cli(['eval', '--encoder', out, '--data', `idx:${dataDir}`, '--json', '--backend', 'cpu', '--k', '5']);
  t.is(e.code, 0, e.err);
  const result = JSON.parse(e.out);
  t.like(result, { numClasses: 4, trainCount: 48, testCount: 16 });
  for (const key of ['encoder', 'randomInit', 'rawPixels', 'rawPixelsCentered']) t.true(result.knn[key] >= 0 && result.knn[key] <= 1, key);
  for (const key of ['encoder', 'randomInit', 'rawPixels']) t.true(result.linear[key] >= 0 && result.linear[key] <= 1, key);
  // The same encoder and settings as pretrain's final evaluation: the same numbers.
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  t.is(result.knn.encoder, results.knn.encoder);
  t.is(result.linear.encoder, results.linear.encoder);

  t.regex((await cli(['pretrain', '--config', configPath, '--data', `idx:${dataDir}`, '--out', out])).err, /holds a finished run; pass --overwrite to delete it and start over/);
});

test.serial('an interrupted pretrain resumes to the planned end, with the results of an uninterrupted run', async (t) => {
  t.is((await straightRun()).code, 0);
  const out = join(root, 'interrupted');
  const first = await cli(['pretrain', '--config', configPath, '--data', `idx:${dataDir}`, '--out', out, '--stop-after', '7']);
  t.is(first.code, 0, first.err);
  t.regex(first.out, /stopped at step 7 of 18; continue with: tfjs-moco resume --out /);
  t.like(await readCheckpointManifest(join(out, 'checkpoint')), { position: { step: 7, epoch: 1, stepInEpoch: 1 } });

  const second = await cli(['resume', '--out', out]);
  t.is(second.code, 0, second.err);
  t.regex(second.err, /resuming .* at step 7 of 18 \(epoch 2\/3\)/);
  const events = await readEvents(out);
  const steps = [...new Set(events.flatMap((e) => (e.type === 'step' ? [e.step] : [])))];
  t.deepEqual(steps, [...Array(18).keys()], 'every planned step, once');
  t.like(events.filter((e) => e.type === 'run-ended').at(-1), { reason: 'completed', steps: 18, epochs: 3 });
  const resumed = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  const straight = JSON.parse(await readFile(join(root, 'run', 'results.json'), 'utf8'));
  t.deepEqual(resumed, straight, 'the same final evaluation as the uninterrupted run');
});

test.serial('pretrain --workers 2 (the executable, data parallel) runs the planned steps and says so in the report', async (t) => {
  const out = join(root, 'run-workers');
  const r = await exe(['pretrain', '--config', configPath, '--data', `idx:${dataDir}`, '--out', out, '--workers', '2']);
  t.is(r.code, 0, r.stderr);
  const events = await readEvents(out);
  t.is(events.filter((e) => e.type === 'step').length, 18);
  t.like(events.find((e) => e.type === 'run-ended'), { reason: 'completed', steps: 18 });
  t.like(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')), { run: { workers: 2 } });
  t.regex(await readFile(join(out, 'report.md'), 'utf8'), /\*\*backend\*\*: cpu \(.*\), 2 workers \(data parallel\)/);
  // A host that gives no plugin modules (runCli's io) is told what is missing.
  const missing = await cli(['pretrain', '--config', configPath, '--data', `idx:${dataDir}`, '--out', join(root, 'run-w2'), '--workers', '2']);
  t.not(missing.code, 0);
  t.regex(missing.err, /workers: 2 trains in worker threads, which import the plugins by module; this host gave none \(runCli's io\.pluginModules/);
});

test.serial('a budgeted pretrain (no --epochs) records the costs it planned with and ends where its re-planning put the end', async (t) => {
  const budgeted = join(root, 'budget.json');
  const { epochs: _omit, ...noEpochs } = TINY_RUN;
  await writeFile(budgeted, JSON.stringify({ ...noEpochs, minutes: 0.15 }));
  const out = join(root, 'budget-run');
  const r = await cli(['pretrain', '--config', budgeted, '--data', `idx:${dataDir}`, '--out', out]);
  t.is(r.code, 0, r.err);
  const record = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as { plan: Record<string, number | undefined> };
  for (const field of ['stepSeconds', 'monitorSeconds', 'finalSeconds', 'budgetSeconds']) t.true((record.plan[field] ?? -1) > 0, `${field} ${record.plan[field]}`);
  const ended = (await readEvents(out)).find((e) => e.type === 'run-ended') as Extract<MocoEvent, { type: 'run-ended' }>;
  // Re-planning may only bring the end forward; config.json names the revised end, which the run kept.
  t.is(ended.steps, record.plan.endAfterStep ?? record.plan.totalSteps!);
  t.true(ended.steps! <= record.plan.totalSteps!);
});
