// channelMean and channelAffine against the obvious tf ops, on cpu and on wasm (where they take
// pooling and depthwise-convolution kernels instead).
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { maxAbsDiff } from '../helpers/tf.js';
import { channelAffine, channelMean } from '../../src/layers/channel-ops.js';

for (const backend of ['cpu', 'wasm']) {
  test.serial(`${backend}: channelMean is the per-group, per-channel mean of consecutive samples`, async (t) => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([6, 5, 3, 4], 3, 2, 'float32', 1); // odd spatial sizes, mean far from 0
    const whole = channelMean(x);
    t.deepEqual(whole.shape, [1, 4]);
    t.true(maxAbsDiff(whole, tf.mean(x, [0, 1, 2])) < 1e-5);
    const perGroup = channelMean(x, 3);
    t.deepEqual(perGroup.shape, [3, 4]);
    const expected = tf.stack(tf.split(x, 3, 0).map((p) => tf.mean(p, [0, 1, 2])));
    t.true(maxAbsDiff(perGroup, expected) < 1e-5, `${maxAbsDiff(perGroup, expected)}`);
    // rank 2 ([N, C], a dense layer's features) and one value per group
    const dense = tf.randomNormal([4, 3], 0, 1, 'float32', 2);
    t.true(maxAbsDiff(channelMean(dense, 2), tf.stack([tf.mean(tf.slice(dense, 0, 2), 0), tf.mean(tf.slice(dense, 2, 2), 0)])) < 1e-6);
    t.true(maxAbsDiff(channelMean(dense, 4), dense) === 0);
    t.throws(() => channelMean(x, 4), { message: /6 samples do not split into 4 equal groups/ });
    tf.dispose([x, whole, perGroup, expected, dense]);
  });

  test.serial(`${backend}: channelAffine is x·scale + shift per channel, whatever shape the shift's data has`, async (t) => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([3, 5, 7, 4], 0, 1, 'float32', 3);
    const scale = tf.tensor1d([2, -1, 0.5, 0]);
    // A reshape keeps its source's data, created here with rank 2: wasm's fused depthwise kernel
    // refuses such a bias unless channelAffine gives it fresh rank-1 data.
    const shift = tf.reshape(tf.tensor2d([[1, 2, 3, 4]]), [4]);
    const y = channelAffine(x, scale, shift);
    t.deepEqual(y.shape, x.shape);
    t.true(maxAbsDiff(y, tf.add(tf.mul(x, scale), shift)) < 1e-6);
    t.true(maxAbsDiff(channelAffine(tf.reshape(x, [105, 4]), scale), tf.mul(tf.reshape(x, [105, 4]), scale)) < 1e-6);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) channelAffine(x, scale, shift).dispose();
    t.is(tf.memory().numTensors, before);
    tf.dispose([x, scale, shift, y]);
  });
}
