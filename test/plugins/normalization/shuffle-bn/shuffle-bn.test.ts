import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, useCpu } from '../../../helpers/tf.js';
import { GroupBatchNormalization, Random, groupSizes, type StepContext } from '../../../../src/index.js';
import { ShuffleBatchNorm } from '../../../../plugins/index.js';

await useCpu();
const ctx = (seed = 0): StepContext => ({ epoch: 0, step: 0, progress: 0, random: new Random(seed) });

function groupModel(groups: number, channels = 3) {
  return tfl.sequential({ layers: [new GroupBatchNormalization({ groups, inputShape: [2, 2, channels], momentum: 0.5, epsilon: 1e-3 })] });
}

test('per-group statistics: each group is normalised with its own mean and variance', (t) => {
  const model = groupModel(2);
  const x = tf.randomNormal([6, 2, 2, 3], 2, 3, 'float32', 7) as tf.Tensor4D;
  const y = model.apply(x, { training: true }) as tf.Tensor;
  // By hand: groups are samples 0–2 and 3–5; moments over (batch, h, w) per channel.
  for (const [start, end] of [[0, 3], [3, 6]]) {
    const part = tf.slice(x, [start, 0, 0, 0], [end - start, -1, -1, -1]);
    const { mean, variance } = tf.moments(part, [0, 1, 2]);
    const expected = tf.div(tf.sub(part, mean), tf.sqrt(tf.add(variance, 1e-3)));
    t.true(maxAbsDiff(tf.slice(y, [start, 0, 0, 0], [end - start, -1, -1, -1]), expected) < 1e-5);
  }
  // Moving stats: 0.5·init + 0.5·(mean over groups of the group statistics).
  const g0 = tf.moments(tf.slice(x, [0, 0, 0, 0], [3, -1, -1, -1]), [0, 1, 2]);
  const g1 = tf.moments(tf.slice(x, [3, 0, 0, 0], [3, -1, -1, -1]), [0, 1, 2]);
  const [, , mm, mv] = model.layers[0].getWeights();
  t.true(maxAbsDiff(mm, tf.mul(tf.add(g0.mean, g1.mean), 0.25)) < 1e-5);
  t.true(maxAbsDiff(mv, tf.add(0.5, tf.mul(tf.add(g0.variance, g1.variance), 0.25))) < 1e-5);
});

test('uneven groups (a short last batch) still normalise per group', (t) => {
  t.deepEqual(groupSizes(7, 3), [3, 2, 2]);
  t.deepEqual(groupSizes(2, 8), [1, 1]);
  const model = groupModel(3, 1);
  const x = tf.randomNormal([7, 2, 2, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = model.apply(x, { training: true }) as tf.Tensor;
  const part = tf.slice(x, [3, 0, 0, 0], [2, -1, -1, -1]);
  const { mean, variance } = tf.moments(part, [0, 1, 2]);
  t.true(maxAbsDiff(tf.slice(y, [3, 0, 0, 0], [2, -1, -1, -1]), tf.div(tf.sub(part, mean), tf.sqrt(tf.add(variance, 1e-3)))) < 1e-5);
});

test('inference uses the moving statistics, like BatchNormalization', (t) => {
  const model = groupModel(2);
  const x = tf.randomNormal([4, 2, 2, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const bn = tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: [2, 2, 3], epsilon: 1e-3 })] });
  bn.setWeights(model.getWeights());
  t.true(maxAbsDiff(model.predict(x) as tf.Tensor, bn.predict(x) as tf.Tensor) < 1e-6);
});

test('the layer saves and loads with its config and weights', async (t) => {
  const model = groupModel(4);
  model.apply(tf.randomNormal([8, 2, 2, 3]), { training: true });
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
  const layer = loaded.layers[0] as GroupBatchNormalization;
  t.is(layer.getClassName(), 'GroupBatchNormalization');
  t.is(layer.groups, 4);
  const x = tf.randomNormal([3, 2, 2, 3], 0, 1, 'float32', 9);
  t.true(maxAbsDiff(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor) < 1e-6);
});

test('Shuffle BN feeds the key encoder a permuted batch and restores the order after', (t) => {
  const strategy = new ShuffleBatchNorm(2);
  const view = tf.tensor4d(Array.from({ length: 8 }, (_, i) => i), [8, 1, 1, 1]);
  let seen: number[] = [];
  const encode = (x: tf.Tensor4D) => {
    seen = Array.from(x.dataSync());
    return tf.reshape(tf.mul(x, 10), [8, 1]) as tf.Tensor2D;
  };
  const keys = strategy.encodeKeys(encode, view, ctx(42));
  t.notDeepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7], 'the encoder saw a shuffled batch');
  t.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7], 'a permutation of it');
  t.deepEqual(Array.from(keys.dataSync()), [0, 10, 20, 30, 40, 50, 60, 70], 'keys come back in query order');
});

test('with group BN, a shuffled key batch gets other statistics than the unshuffled one', (t) => {
  // The point of shuffling: key i is normalised with a different group than query i.
  const model = groupModel(2, 1);
  const view = tf.tensor4d([0, 0, 0, 0, 10, 10, 10, 10, 1, 2, 3, 4, 11, 12, 13, 14].map(Number), [4, 2, 2, 1]);
  const encode = (x: tf.Tensor4D) => tf.reshape(model.apply(x, { training: true }) as tf.Tensor, [4, 4]) as tf.Tensor2D;
  const plain = encode(view);
  const shuffled = new ShuffleBatchNorm(2).encodeKeys(encode, view, ctx(1));
  t.true(maxAbsDiff(plain, shuffled) > 0.1);
});
