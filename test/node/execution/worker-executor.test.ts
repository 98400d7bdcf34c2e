// Data-parallel training (fit option `workers`): a step on two threads is the one-thread step with
// microBatch = batch/2, number for number; failures and bad options are reported, not hung on.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff } from '../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../helpers/tiny.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NonFiniteLossError, createMoco, resumableImageDataset, resumeMoco, selectBackend, type FitOptions, type Moco, type MocoConfigInput } from '../../../src/index.js';
import { tinyImageSet } from '../../checkpoint/helpers.js';
import { builtinPlugins } from '../../../plugins/index.js';
import { liveReplicaWorkers, workerThreadExecutor } from '../../../src/node/index.js';

// The cpu backend as the workers select it (with the library's cpu training kernels): the same kernels on
// every thread, so the same numbers.
await selectBackend({ prefer: 'cpu', needsTraining: true, log: () => undefined });

/** The built-in plugins, as a module the worker threads can import. */
const PLUGINS = new URL('../../../plugins/index.ts', import.meta.url).href;

async function run(config: MocoConfigInput, fit: Partial<FitOptions>) {
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'dp', 5),
    plugins: builtinPlugins,
    // BatchNorm (the library's, hand-written gradient) with per-share statistics: shares = micro-batches.
    config: { seed: 4, head: { dim: 8 }, dictionary: { size: 24 }, normalization: 'batchnorm', loss: { temperature: 0.2 }, ...config },
  });
  const losses: number[] = [];
  const accuracies: number[] = [];
  const tensors: number[] = [];
  moco.on('step').subscribe((e) => {
    losses.push(e.loss);
    accuracies.push(e.pretextAccuracy);
    tensors.push(tf.memory().numTensors);
  });
  await moco.fit(randomImages(32, 8, 1, 9), { epochs: 1, batchSize: 8, ...fit });
  const weights = moco.queryEncoder!.trainableWeights.map((w) => tf.clone(w.read()));
  // The key encoder's weights are not trainable (it follows by EMA): all but BatchNorm's moving statistics.
  const keyWeights = moco.keyEncoder!.weights.filter((w) => !/moving_/.test(w.name)).map((w) => tf.clone(w.read()));
  const queue = tf.clone(moco.strategies.dictionary.state!().tensors.queue);
  moco.dispose();
  return { losses, accuracies, tensors, weights, keyWeights, queue };
}

test.serial('two workers train exactly as one thread with micro-batches of half the batch', async (t) => {
  const one = await run({ microBatch: 4 }, {});
  const two = await run({}, { workers: 2, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor });
  t.is(one.losses.length, 4);
  t.deepEqual(two.losses, one.losses, 'the same loss at every step');
  t.deepEqual(two.accuracies, one.accuracies);
  // Trainable weights, bit for bit (BatchNorm's moving statistics are each thread's own share's).
  const worst = (a: tf.Tensor[], b: tf.Tensor[]) => Math.max(...a.map((w, i) => maxAbsDiff(w, b[i])));
  t.is(worst(one.weights, two.weights), 0, 'query encoder');
  t.is(one.keyWeights.length, one.weights.length);
  t.is(worst(one.keyWeights, two.keyWeights), 0, 'key encoder (EMA of the query encoder)');
  t.is(maxAbsDiff(one.queue, two.queue), 0, 'the same keys in the same order in the queue');
  // Training moved the weights and filled the queue: not two untouched copies.
  t.true(maxAbsDiff(one.weights[0], tinyBackbone(8, 1, 4, 'dp0', 5).trainableWeights[0].read()) > 1e-4);
  // The main thread's tensors stay flat from step to step.
  t.is(two.tensors[3], two.tensors[1], `numTensors by step: ${two.tensors.join(', ')}`);
  t.is(liveReplicaWorkers(), 0, 'the worker threads ended with the fit');
  tf.dispose([...one.weights, ...two.weights, ...one.keyWeights, ...two.keyWeights, one.queue, two.queue]);
});

for (const symmetric of [false, true]) {
  test.serial(`Shuffle BN across two workers, one BN group each, is one thread's Shuffle BN in two groups${symmetric ? ' (symmetric loss)' : ''}`, async (t) => {
    // The paper's setting (Sec. 3.3): the key batch is shuffled across the devices, each normalizes its share.
    // One device emulating two with two BatchNorm groups must train identically.
    const shuffle = (groups: number): MocoConfigInput => ({ normalization: { id: 'shuffle-bn', groups }, loss: { temperature: 0.2, symmetric } });
    const one = await run(shuffle(2), {});
    const two = await run(shuffle(1), { workers: 2, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor });
    // Equal up to float32 rounding: the workers average two half-batch losses where one thread takes the mean
    // over the whole batch (same numbers, summed in another order).
    one.losses.forEach((l, i) => t.true(Math.abs(l - two.losses[i]) < 1e-5, `loss ${i}: ${l} vs ${two.losses[i]}`));
    t.deepEqual(two.accuracies, one.accuracies);
    const worst = (a: tf.Tensor[], b: tf.Tensor[]) => Math.max(...a.map((w, i) => maxAbsDiff(w, b[i])));
    t.true(worst(one.weights, two.weights) < 1e-5, `query encoder ${worst(one.weights, two.weights)}`);
    t.true(worst(one.keyWeights, two.keyWeights) < 1e-5, 'key encoder');
    t.true(maxAbsDiff(one.queue, two.queue) < 1e-5, `the same keys, in the same order (${maxAbsDiff(one.queue, two.queue)})`);
    // The same BN groups without the shuffle (split BN, one group per worker): other keys. So the match above
    // is the shuffle's doing.
    const within = await run({ normalization: { id: 'split-bn', groups: 1 }, loss: { temperature: 0.2, symmetric } }, { workers: 2, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor });
    t.true(maxAbsDiff(one.queue, within.queue) > 1e-4, `${maxAbsDiff(one.queue, within.queue)}`);
    tf.dispose([...one.weights, ...two.weights, ...one.keyWeights, ...two.keyWeights, one.queue, two.queue, ...within.weights, ...within.keyWeights, within.queue]);
  });
}

test('workers without workerPlugins is refused, naming the option and the fix', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpa'), plugins: builtinPlugins, config: { dictionary: { size: 16 } } });
  const err = await t.throwsAsync(moco.fit(randomImages(16), { epochs: 1, batchSize: 8, workers: 2 }), { instanceOf: ConfigError });
  t.regex(err!.message, /fit\.workerPlugins: workers: 2 trains in worker threads.*workerPlugins: \['tfjs-moco\/plugins'\]/);
  // The executor is missing too, and said in the same error.
  t.regex(err!.message, /fit\.workerExecutor: .*workerThreadExecutor from 'tfjs-moco\/node'/);
  moco.dispose();
});

test('workers without a worker executor is refused, pointing at tfjs-moco/node, and trains nothing', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpe'), plugins: builtinPlugins, config: { dictionary: { size: 16 } } });
  let steps = 0;
  moco.on('step').subscribe(() => steps++);
  const err = await t.throwsAsync(moco.fit(randomImages(16), { epochs: 1, batchSize: 8, workers: 2, workerPlugins: [PLUGINS] }), { instanceOf: ConfigError });
  t.regex(err!.message, /fit\.workerExecutor: workers: 2 trains in worker threads.*workerExecutor: workerThreadExecutor from 'tfjs-moco\/node'/);
  t.is(steps, 0);
  t.is(moco.position.step, 0);
  moco.dispose();
});

test('workers with an in-batch dictionary is refused: K would shrink to a share', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpb'), plugins: builtinPlugins, config: { preset: 'end-to-end' } });
  const err = await t.throwsAsync(moco.fit(randomImages(16), { epochs: 1, batchSize: 8, workers: 2, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor }), { instanceOf: ConfigError });
  t.regex(err!.message, /fit\.workers: 2 would split each batch of 8, but dictionary 'in-batch'/);
  moco.dispose();
});

test.serial('a worker that cannot start fails the fit with its reason, and no thread is left behind', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpc'), plugins: builtinPlugins, config: { dictionary: { size: 16 } } });
  const notPlugins = new URL('../../helpers/tiny.ts', import.meta.url).href;
  await t.throwsAsync(moco.fit(randomImages(16), { epochs: 1, batchSize: 8, workers: 2, workerPlugins: [notPlugins], workerExecutor: workerThreadExecutor }), {
    message: /data-parallel worker 1: workerPlugins: module '.*tiny\.ts' exports no array of plugins/,
  });
  t.is(liveReplicaWorkers(), 0);
  moco.dispose();
});

test.serial('a worker whose plugin module throws on load ends the fit with that reason, not a hang', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpt'), plugins: builtinPlugins, config: { dictionary: { size: 16 } } });
  const throwing = new URL('../../helpers/throwing-plugin.ts', import.meta.url).href;
  await t.throwsAsync(moco.fit(randomImages(16), { epochs: 1, batchSize: 8, workers: 2, workerPlugins: [throwing], workerExecutor: workerThreadExecutor }), {
    message: /data-parallel worker 1: .*this plugin module fails to load \(test fixture\)/,
  });
  t.is(liveReplicaWorkers(), 0);
  moco.dispose();
});

test.serial('on workers a NaN batch stops the run with NonFiniteLossError at that step; the threads end', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpn', 5), plugins: builtinPlugins, config: { seed: 4, head: { dim: 8 }, dictionary: { size: 24 }, normalization: 'batchnorm' } });
  const images = randomImages(24, 8, 1, 9).map((e) => {
    const { xs, index } = e as { xs: tf.Tensor3D; index: tf.Scalar };
    // Image 9 (batch 1 of 8) gets a NaN pixel.
    const bad = index.dataSync()[0] === 9;
    return { xs: bad ? tf.tidy(() => tf.add(xs, tf.scalar(NaN))) : xs, index };
  });
  const steps: number[] = [];
  moco.on('step').subscribe((e) => steps.push(e.step));
  const err = await t.throwsAsync(moco.fit(images, { epochs: 1, batchSize: 8, workers: 2, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor }), { instanceOf: NonFiniteLossError });
  t.is((err as NonFiniteLossError).step, 1);
  t.deepEqual(steps, [0]);
  t.is(liveReplicaWorkers(), 0);
  moco.dispose();
});

test.serial('a data-parallel run stopped, checkpointed and resumed on workers ends as the uninterrupted one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-moco-dp-'));
  try {
    const config: MocoConfigInput = { seed: 4, head: { dim: 8 }, dictionary: { size: 24 }, normalization: 'batchnorm', loss: { temperature: 0.2 } };
    const fit = { epochs: 2, batchSize: 8, workers: 2, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor };
    const data = () => resumableImageDataset(tinyImageSet(24), { seed: 2 });
    const trainable = (m: Moco) => m.queryEncoder!.trainableWeights.map((w) => tf.clone(w.read()));
    // A: straight through, 6 steps.
    const a = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpr', 5), plugins: builtinPlugins, config });
    const lossesA: number[] = [];
    a.on('step').subscribe((e) => lossesA.push(e.loss));
    await a.fit(data(), fit);
    const weightsA = trainable(a);
    const queueA = tf.clone(a.strategies.dictionary.state!().tensors.queue);
    a.dispose();
    // B: stopped after step 2 (mid-epoch), checkpointed, disposed; C: resumed from disk, on workers again.
    const b = createMoco({ backbone: tinyBackbone(8, 1, 4, 'dpr', 5), plugins: builtinPlugins, config });
    const lossesB: number[] = [];
    b.on('step').subscribe((e) => {
      lossesB.push(e.loss);
      if (e.step === 1) b.stop();
    });
    await b.fit(data(), fit);
    await b.saveCheckpoint(dir);
    b.dispose();
    const c = await resumeMoco(dir, { plugins: builtinPlugins });
    c.on('step').subscribe((e) => lossesB.push(e.loss));
    await c.fit(data(), fit);
    t.deepEqual(lossesB, lossesA, 'the same loss at every step');
    const weightsC = trainable(c);
    t.is(Math.max(...weightsA.map((w, i) => maxAbsDiff(w, weightsC[i]))), 0);
    t.is(maxAbsDiff(queueA, c.strategies.dictionary.state!().tensors.queue), 0);
    c.dispose();
    tf.dispose([...weightsA, ...weightsC, queueA]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
