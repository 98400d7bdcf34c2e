// The non-finite guard (src/step/step-reading.ts, fit option `nonFinite`): a step whose loss or gradients are
// NaN/Infinity applies no update, the run stops there with a NonFiniteLossError (or skips, up to maxSkips), and
// no checkpoint is written after it.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { tinyBackbone } from '../helpers/tiny.js';
import { ConfigError, MicroBatchExecutor, NonFiniteLossError, OneThreadExecutor, Random, createMoco, readCheckpoint, type MocoEvent, type StepExecutor } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();
const small = { seed: 3, head: { dim: 8, hidden: 16 }, dictionary: { size: 16 }, normalization: { groups: 2 }, optimizer: { schedule: 'constant' as const } };
const root = await mkdtemp(join(tmpdir(), 'tfjs-moco-nonfinite-'));
test.after.always(() => rm(root, { recursive: true, force: true }));

/** n 8×8 grey images in [0,1]; the images of the batches (of 4) listed in `nanBatches` hold a NaN pixel. */
function images(n: number, nanBatches: number[]): tfd.Dataset<tf.Tensor3D> {
  const all = Array.from({ length: n }, (_, i) => {
    const v = Float32Array.from({ length: 64 }, (_, p) => ((i * 37 + p * 11) % 100) / 100);
    if (nanBatches.includes(Math.floor(i / 4))) v[5] = NaN;
    return v;
  });
  return tfd.array(all.map((_, i) => i)).map((i) => tf.tensor3d(all[i as unknown as number], [8, 8, 1]));
}

/** A backbone without BatchNorm (no moving statistics a NaN image could poison): conv → ReLU → GAP. */
function noBnBackbone(): tfl.LayersModel {
  return tfl.sequential({
    name: 'nobn',
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', name: 'nobn_c1', kernelInitializer: tfl.initializers.heNormal({ seed: 1 }) }),
      tfl.layers.activation({ activation: 'relu', name: 'nobn_r1' }),
      tfl.layers.globalAveragePooling2d({ name: 'nobn_gap' }),
    ],
  });
}

const weightsOf = (m: tfl.LayersModel) => m.trainableWeights.map((w) => Float32Array.from(w.read().dataSync()));
const allWeights = (m: tfl.LayersModel) => m.weights.map((w) => Float32Array.from(w.read().dataSync()));
const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(0, ...a.map((x, i) => maxAbsDiff(x, b[i])));

for (const [name, make] of [
  ['one-thread', (m: ReturnType<typeof createMoco>) => new OneThreadExecutor(m.trainingStep!)],
  ['micro-batch', (m: ReturnType<typeof createMoco>) => new MicroBatchExecutor(m.trainingStep!, 2)],
] as [string, (m: ReturnType<typeof createMoco>) => StepExecutor][]) {
  test.serial(`${name} executor: a NaN batch applies nothing (weights, key encoder, queue unchanged) and leaks no tensor`, async (t) => {
    const moco = createMoco({ backbone: noBnBackbone(), plugins: builtinPlugins, config: { ...small, normalization: { id: 'none' } } });
    await moco.build();
    moco.prepareDictionary({ batchSize: 4 });
    const executor = make(moco);
    const random = new Random(1);
    const good = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const pixels = Float32Array.from(good.dataSync());
    pixels[5] = NaN;
    const bad = tf.tensor4d(pixels, [4, 8, 8, 1]);
    const first = await executor.run({ images: good }, { epoch: 0, step: 0, progress: 0, random }, 0.05);
    t.true(first.applied && Number.isFinite(first.loss) && first.gradientNorm > 0);
    const before = { q: weightsOf(moco.queryEncoder!), k: allWeights(moco.keyEncoder!), queue: Float32Array.from(moco.strategies.dictionary.state!().tensors.queue.dataSync()) };
    const tensors = tf.memory().numTensors;
    const r = await executor.run({ images: bad }, { epoch: 0, step: 1, progress: 0, random }, 0.05);
    t.false(r.applied);
    t.false(r.finite);
    t.true(Number.isNaN(r.loss), `loss ${r.loss}`);
    t.is(tf.memory().numTensors, tensors);
    t.is(maxDiff(weightsOf(moco.queryEncoder!), before.q), 0);
    t.true(before.k.length > 0);
    t.is(maxDiff(allWeights(moco.keyEncoder!), before.k), 0);
    t.is(maxAbsDiff(moco.strategies.dictionary.state!().tensors.queue, before.queue), 0);
    await executor.dispose();
    tf.dispose([good, bad]);
    moco.dispose();
  });
}

test.serial("policy 'stop' (default): fit rejects with NonFiniteLossError at the first NaN step, error event, last checkpoint is the last finite step's", async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'nfstop', 2), plugins: builtinPlugins, config: small });
  const events: MocoEvent[] = [];
  moco.events$.subscribe((e) => events.push(e));
  let atStep2: Float32Array[] = [];
  moco.on('step').subscribe((e) => e.step === 2 && (atStep2 = weightsOf(moco.queryEncoder!)));
  const dir = join(root, 'stop');
  const err = await t.throwsAsync(moco.fit(images(24, [3]), { epochs: 2, batchSize: 4, checkpointDir: dir, checkpointEvery: { steps: 1 } }), { instanceOf: NonFiniteLossError });
  t.is((err as NonFiniteLossError).step, 3);
  t.regex(err!.message, /^training diverged at step 3: loss NaN, gradient norm NaN.*learning rate too high.*bad input data.*overflow/);
  t.deepEqual(events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step), [0, 1, 2]);
  t.like(events.at(-1), { type: 'error', step: 3 });
  t.false(events.some((e) => e.type === 'run-ended'));
  // The run's weights are those after step 2 (step 3 applied nothing); the checkpoint on disk is step 2's.
  t.is(maxDiff(weightsOf(moco.queryEncoder!), atStep2), 0);
  const saved = await readCheckpoint(dir);
  t.is(saved.manifest.position.step, 3, 'three finite steps done');
  for (const tensor of Object.values(saved.tensors)) t.true(tensor.dataSync().every(Number.isFinite));
  tf.dispose(Object.values(saved.tensors));
  moco.dispose();
});

test.serial("policy 'skip': a NaN step is skipped (event skipped, nothing applied); past maxSkips the run stops", async (t) => {
  const moco = createMoco({ backbone: noBnBackbone(), plugins: builtinPlugins, config: { ...small, normalization: { id: 'none' } } });
  const steps: Extract<MocoEvent, { type: 'step' }>[] = [];
  const weights = new Map<number, Float32Array[]>();
  moco.on('step').subscribe((e) => {
    steps.push(e);
    weights.set(e.step, weightsOf(moco.queryEncoder!));
  });
  const err = await t.throwsAsync(moco.fit(images(24, [1, 3]), { epochs: 1, batchSize: 4, nonFinite: { policy: 'skip', maxSkips: 1 } }), { instanceOf: NonFiniteLossError });
  t.is((err as NonFiniteLossError).step, 3);
  t.regex(err!.message, /after 1 skipped non-finite step \(nonFinite\.maxSkips\)/);
  t.deepEqual(steps.map((s) => [s.step, s.skipped ?? false]), [[0, false], [1, true], [2, false]]);
  t.true(Number.isNaN(steps[1].loss));
  t.is(maxDiff(weights.get(1)!, weights.get(0)!), 0, 'the skipped step changed no weight');
  t.true(maxDiff(weights.get(2)!, weights.get(1)!) > 0, 'the next step trained');
  moco.dispose();
});

test('fit.nonFinite is validated: an unknown policy names the field and the choices', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'nfbad'), plugins: builtinPlugins, config: small });
  const err = await t.throwsAsync(moco.fit(images(8, []), { epochs: 1, batchSize: 4, nonFinite: { policy: 'ignore' as 'stop' } }), { instanceOf: ConfigError });
  t.regex(err!.message, /fit\.nonFinite\.policy: .*"stop"\|"skip" \(got "ignore"\)/);
  moco.dispose();
});
