import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node build registers gradient functions only when tfjs-layers is loaded; the reference
// tf.variableGrads below needs them (the probe itself does not).
import '@tensorflow/tfjs-layers';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { linearProbe, softmaxRegressionGrads } from '../../src/eval/linear-probe.js';

test.before(async () => {
  await useCpu();
});

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Linearly separable data with a margin: labels are argmax of a random linear map, and points whose best and
 * second-best scores are closer than `margin` are dropped. Features get a per-dimension scale so that the
 * probe's standardisation has work to do. With `offset`, also a per-dimension shift: still linearly
 * separable, but no longer after L2-normalising the rows (argmax(Wx) is invariant to scaling x, not to
 * shifting it).
 */
function separable(n: number, d: number, numClasses: number, seed: number, offsetSize = 0, margin = 0.5) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const w = Array.from({ length: numClasses }, () => Array.from({ length: d }, gauss));
  const offset = Array.from({ length: d }, () => offsetSize * gauss());
  const scale = Array.from({ length: d }, () => 0.01 + 3 * r());
  const xs: number[][] = [];
  const labels: number[] = [];
  while (xs.length < n) {
    const x = Array.from({ length: d }, gauss);
    const scores = w.map((wc) => wc.reduce((s, v, j) => s + v * x[j], 0));
    const sorted = [...scores].sort((a, b) => b - a);
    if (sorted[0] - sorted[1] < margin) continue;
    labels.push(scores.indexOf(sorted[0]));
    xs.push(x.map((v, j) => offset[j] + scale[j] * v));
  }
  return { x: tf.tensor2d(xs) as tf.Tensor2D, labels: Int32Array.from(labels) };
}

function split(pool: { x: tf.Tensor2D; labels: Int32Array }, nTrain: number) {
  const [n, d] = pool.x.shape;
  return {
    trainFeatures: tf.slice(pool.x, [0, 0], [nTrain, d]) as tf.Tensor2D,
    trainLabels: pool.labels.slice(0, nTrain),
    testFeatures: tf.slice(pool.x, [nTrain, 0], [n - nTrain, d]) as tf.Tensor2D,
    testLabels: pool.labels.slice(nTrain),
  };
}

test.serial('reaches ~100 % on linearly separable features, deterministic for a seed, no leaked tensors', async (t) => {
  // train and test must come from the same linear map, so both are drawn from one pool
  const pool = separable(900, 8, 3, 1);
  const input = { ...split(pool, 600), numClasses: 3, epochs: 20, batchSize: 64, seed: 5 };
  const before = tf.memory().numTensors;
  const r1 = await linearProbe(input);
  t.is(tf.memory().numTensors, before);
  t.true(r1.trainAccuracy >= 0.99, `train ${r1.trainAccuracy}`);
  t.true(r1.testAccuracy >= 0.98, `test ${r1.testAccuracy}`);
  t.true(r1.trainLoss < 0.1, `loss ${r1.trainLoss}`);
  const r2 = await linearProbe(input);
  t.deepEqual(r2, r1); // bit-identical, loss included
  const r3 = await linearProbe({ ...input, seed: 6 });
  t.not(r3.trainLoss, r1.trainLoss); // the seed does drive the batch order
  tf.dispose([pool.x, input.trainFeatures, input.testFeatures]);
});

test.serial('with normalize: false it separates shifted features, which row normalisation would not', async (t) => {
  const pool = separable(900, 8, 3, 2, 5);
  const input = { ...split(pool, 600), numClasses: 3, epochs: 20, batchSize: 64 };
  const r = await linearProbe({ ...input, normalize: false });
  t.true(r.trainAccuracy >= 0.99, `train ${r.trainAccuracy}`);
  t.true(r.testAccuracy >= 0.98, `test ${r.testAccuracy}`);
  tf.dispose([pool.x, input.trainFeatures, input.testFeatures]);
});

test.serial('the closed-form gradient equals tf.variableGrads over an explicit [W, b]', (t) => {
  const r = rng(3);
  const x = tf.tensor2d(Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => r() * 2 - 1)));
  const onehot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 2, 1, 2, 0], 'int32'), 3), 'float32')) as tf.Tensor2D;
  const w = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 1)) as tf.Variable<tf.Rank.R2>;
  const b = tf.variable(tf.randomNormal([3], 0, 1, 'float32', 2)) as tf.Variable<tf.Rank.R1>;
  const { gw, gb } = softmaxRegressionGrads(x, onehot, w, b);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(onehot, tf.add(tf.matMul(x, w), b)) as tf.Scalar,
    [w, b],
  );
  t.true(maxAbsDiff(gw, grads[w.name]) < 1e-6);
  t.true(maxAbsDiff(gb, grads[b.name]) < 1e-6);
  tf.dispose([x, onehot, w, b, gw, gb, value, grads[w.name], grads[b.name]]);
});

test.serial('leaves every other variable in the process untouched', async (t) => {
  const bystander = tf.variable(tf.fill([3], 1.5), true);
  const pool = separable(120, 4, 2, 9);
  await linearProbe({
    trainFeatures: pool.x,
    trainLabels: pool.labels,
    testFeatures: pool.x,
    testLabels: pool.labels,
    numClasses: 2,
    epochs: 2,
  });
  t.is(maxAbsDiff(bystander, [1.5, 1.5, 1.5]), 0);
  tf.dispose([bystander, pool.x]);
});

test.serial('rejects labels outside [0, numClasses) and mismatched dimensions', async (t) => {
  const a = tf.zeros([3, 2]) as tf.Tensor2D;
  const b = tf.zeros([2, 3]) as tf.Tensor2D;
  await t.throwsAsync(
    linearProbe({ trainFeatures: a, trainLabels: Int32Array.from([0, 1, 3]), testFeatures: a, testLabels: Int32Array.from([0, 1, 1]), numClasses: 3 }),
    { message: /train label 3 at 2/ },
  );
  await t.throwsAsync(
    linearProbe({ trainFeatures: a, trainLabels: Int32Array.from([0, 1, 1]), testFeatures: b, testLabels: Int32Array.from([0, 1]), numClasses: 2 }),
    { message: /2-d, test features 3-d/ },
  );
  tf.dispose([a, b]);
});
