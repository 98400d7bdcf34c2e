import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import { ConfigError, createMoco, microBatches, type MocoConfigInput } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();

test('microBatches splits a batch into near-equal consecutive parts of at most the limit', (t) => {
  t.deepEqual(microBatches(10, 4), [[0, 4], [4, 3], [7, 3]]);
  t.deepEqual(microBatches(8, 4), [[0, 4], [4, 4]]);
  t.deepEqual(microBatches(8, 0), [[0, 8]]);
  t.deepEqual(microBatches(8, 20), [[0, 8]]);
});

/** conv → ReLU → conv → ReLU → GAP, no BatchNorm: a batch's samples do not interact, so micro-batching is exact. */
function noBnBackbone(): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.heNormal({ seed: 40 + k });
  return tfl.sequential({
    name: 'nobn',
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'nobn_c1', kernelInitializer: init(1) }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'nobn_c2', kernelInitializer: init(2) }),
      tfl.layers.globalAveragePooling2d({ name: 'nobn_gap' }),
    ],
  });
}

async function run(config: MocoConfigInput, symmetric = false) {
  const moco = createMoco({
    backbone: noBnBackbone(),
    plugins: builtinPlugins,
    config: { seed: 4, head: { dim: 8 }, dictionary: { size: 12 }, normalization: 'none', loss: { temperature: 0.2, symmetric }, ...config },
  });
  const losses: number[] = [];
  const accuracies: number[] = [];
  moco.on('step').subscribe((e) => {
    losses.push(e.loss);
    accuracies.push(e.pretextAccuracy);
  });
  await moco.fit(randomImages(16, 8, 1, 9), { epochs: 1, batchSize: 8 });
  const weights = moco.exportEncoder().getWeights().map((w) => tf.clone(w));
  const queue = tf.clone(moco.strategies.dictionary.state!().tensors.queue);
  moco.dispose();
  return { losses, accuracies, weights, queue };
}

for (const symmetric of [false, true]) {
  test.serial(`micro-batches of 3, 3, 2 train exactly as the whole batch of 8 (no BatchNorm${symmetric ? ', symmetric loss' : ''})`, async (t) => {
    const whole = await run({ microBatch: 0 }, symmetric);
    const split = await run({ microBatch: 3 }, symmetric);
    t.is(whole.losses.length, 2);
    whole.losses.forEach((l, i) => t.true(Math.abs(l - split.losses[i]) < 1e-5, `loss ${i}: ${l} vs ${split.losses[i]}`));
    whole.accuracies.forEach((a, i) => t.true(Math.abs(a - split.accuracies[i]) < 1e-6, `accuracy ${i}`));
    const worst = Math.max(...whole.weights.map((w, i) => maxAbsDiff(w, split.weights[i])));
    t.true(worst < 1e-5, `weights differ by ${worst}`);
    t.true(maxAbsDiff(whole.queue, split.queue) < 1e-5, 'the same keys were enqueued in the same order');
    // training moved the weights, so the comparison is not between two untouched copies
    t.true(maxAbsDiff(whole.weights[0], noBnBackbone().getWeights()[0]) > 1e-4);
    tf.dispose([...whole.weights, ...split.weights, whole.queue, split.queue]);
  });
}

test.serial('with BatchNorm and Shuffle BN, micro-batched steps leave no tensor behind', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'mbn', 3), plugins: builtinPlugins, config: { seed: 1, head: { dim: 8 }, dictionary: { size: 16 }, microBatch: 4, normalization: { id: 'shuffle-bn', groups: 2 } } });
  const counts: number[] = [];
  moco.on('step').subscribe(() => counts.push(tf.memory().numTensors));
  await moco.fit(randomImages(48, 8, 1, 2), { epochs: 1, batchSize: 12 });
  t.is(counts.length, 4);
  t.is(counts[3], counts[1], `numTensors by step: ${counts.join(', ')}`);
  moco.dispose();
});

test('micro-batching an in-batch dictionary is refused, naming microBatch and the fix', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'mib'), plugins: builtinPlugins, config: { preset: 'end-to-end', microBatch: 4 } });
  const err = await t.throwsAsync(moco.fit(randomImages(16), { epochs: 1, batchSize: 8 }), { instanceOf: ConfigError });
  t.regex(err!.message, /microBatch: 4 would split each batch of 8, but dictionary 'in-batch' takes its negatives from the batch.*set microBatch to 0/);
  moco.dispose();
});
