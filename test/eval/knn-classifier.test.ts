import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../helpers/tf.js';
import { knnAccuracy, knnPredict } from '../../src/eval/knn-classifier.js';

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

/** Weighted kNN written out plainly (Wu et al. 2018; MoCo CIFAR demo), in float64. */
function bruteForce(train: number[][], trainLabels: number[], test: number[][], numClasses: number, k: number, tau: number): number[] {
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const tr = train.map(unit);
  return test.map((q0) => {
    const q = unit(q0);
    const sims = tr.map((p, i) => ({ i, s: p.reduce((acc, x, j) => acc + x * q[j], 0) }));
    sims.sort((a, b) => b.s - a.s || a.i - b.i);
    const scores = new Array(numClasses).fill(0);
    for (const { i, s } of sims.slice(0, Math.min(k, tr.length))) scores[trainLabels[i]] += Math.exp(s / tau);
    return scores.indexOf(Math.max(...scores));
  });
}

test.serial('matches a brute-force implementation on a random case, across chunk boundaries', async (t) => {
  const r = rng(42);
  const d = 6;
  const numClasses = 4;
  // clustered data so that classes matter, with overlap so that the vote is not trivial
  const centres = Array.from({ length: numClasses }, () => Array.from({ length: d }, () => r() * 2 - 1));
  const sample = (n: number) => {
    const labels = Array.from({ length: n }, () => Math.floor(r() * numClasses));
    const xs = labels.map((c) => centres[c].map((m) => m + (r() * 2 - 1) * 0.9));
    return { xs, labels };
  };
  const train = sample(60);
  const query = sample(25);
  const trainF = tf.tensor2d(train.xs);
  const testF = tf.tensor2d(query.xs);
  const before = tf.memory().numTensors;
  for (const [k, tau, chunkSize] of [
    [7, 0.1, 4],
    [1, 0.1, 25],
    [200, 0.1, 10], // k clamped to the 60 train features
    [15, 1, 7],
  ] as const) {
    const got = await knnPredict({
      trainFeatures: trainF,
      trainLabels: Int32Array.from(train.labels),
      testFeatures: testF,
      numClasses,
      k,
      temperature: tau,
      chunkSize,
    });
    const want = bruteForce(train.xs, train.labels, query.xs, numClasses, k, tau);
    t.deepEqual(Array.from(got), want, `k ${k}, τ ${tau}, chunk ${chunkSize}`);
  }
  // The predictions are not all one class, so the comparison has teeth.
  t.true(new Set(bruteForce(train.xs, train.labels, query.xs, numClasses, 7, 0.1)).size > 1);
  t.is(tf.memory().numTensors, before);
  tf.dispose([trainF, testF]);
});

// Query q = (1, 0). One class-1 neighbour at 5° (cosine 0.996), two class-0 neighbours at ±60° (cosine 0.5) and
// one class-1 point opposite (cosine −1), with magnitudes that differ wildly (cosine ignores them).
// k = 3, τ = 0.1: class 1 gets e^9.96 ≈ 21,000, class 0 gets 2·e^5 ≈ 297 → 1, though the majority is class 0.
// k = 3, τ = 10 (almost uniform weights): class 1 gets e^0.0996 ≈ 1.10, class 0 gets 2·e^0.05 ≈ 2.10 → 0.
// k = 1: the nearest neighbour alone → 1.
// Query (0, 1): neighbours at cosine 0.87 (class 0), 0.087 (class 1), 0 (class 1). τ = 0.1: e^8.7 ≈ 5,800 against
// e^0.87 + 1 ≈ 3.4 → 0; τ = 10: e^0.087 ≈ 1.09 against e^0.0087 + 1 ≈ 2.01 → 1.
test.serial('hand-made 2-class example: temperature-weighted vote against majority vote', async (t) => {
  const rad = Math.PI / 180;
  const trainF = tf.tensor2d([
    [0.01 * Math.cos(5 * rad), 0.01 * Math.sin(5 * rad)],
    [100 * Math.cos(60 * rad), 100 * Math.sin(60 * rad)],
    [3 * Math.cos(60 * rad), -3 * Math.sin(60 * rad)],
    [-2, 0],
  ]);
  const trainLabels = Int32Array.from([1, 0, 0, 1]);
  const testF = tf.tensor2d([
    [5, 0],
    [0, 1],
  ]);
  const testLabels = Int32Array.from([1, 0]);
  const before = tf.memory().numTensors;
  const run = (k: number, temperature: number) => knnPredict({ trainFeatures: trainF, trainLabels, testFeatures: testF, numClasses: 2, k, temperature });
  t.deepEqual(Array.from(await run(3, 0.1)), [1, 0]);
  t.deepEqual(Array.from(await run(3, 10)), [0, 1]);
  t.deepEqual(Array.from(await run(1, 0.1)), [1, 0]);
  t.is(await knnAccuracy({ trainFeatures: trainF, trainLabels, testFeatures: testF, testLabels, numClasses: 2, k: 3 }), 1);
  t.is(await knnAccuracy({ trainFeatures: trainF, trainLabels, testFeatures: testF, testLabels, numClasses: 2, k: 3, temperature: 10 }), 0);
  // labels may also come as tensors
  const trainLabelsT = tf.tensor1d(trainLabels, 'int32');
  const testLabelsT = tf.tensor1d(testLabels, 'int32');
  t.is(await knnAccuracy({ trainFeatures: trainF, trainLabels: trainLabelsT, testFeatures: testF, testLabels: testLabelsT, numClasses: 2, k: 3 }), 1);
  tf.dispose([trainLabelsT, testLabelsT]);
  t.is(tf.memory().numTensors, before);
  tf.dispose([trainF, testF]);
});

test.serial('rejects mismatched dimensions and out-of-range labels', async (t) => {
  const a = tf.zeros([4, 3]) as tf.Tensor2D;
  const b = tf.ones([2, 2]) as tf.Tensor2D;
  const c = tf.ones([2, 3]) as tf.Tensor2D;
  const labels = Int32Array.from([0, 1, 0, 1]);
  await t.throwsAsync(knnAccuracy({ trainFeatures: a, trainLabels: labels, testFeatures: b, testLabels: Int32Array.from([0, 1]), numClasses: 2 }), {
    message: /3-d, test features 2-d/,
  });
  await t.throwsAsync(knnAccuracy({ trainFeatures: a, trainLabels: Int32Array.from([0, 1, 2, 1]), testFeatures: c, testLabels: Int32Array.from([0, 1]), numClasses: 2 }), {
    message: /train label 2 at 2/,
  });
  await t.throwsAsync(knnAccuracy({ trainFeatures: a, trainLabels: labels, testFeatures: c, testLabels: Int32Array.from([0]), numClasses: 2 }), {
    message: /1 test labels for 2 features/,
  });
  tf.dispose([a, b, c]);
});
