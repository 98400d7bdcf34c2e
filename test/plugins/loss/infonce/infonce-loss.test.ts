import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../../../helpers/tf.js';
import { InfoNceLoss } from '../../../../plugins/loss/infonce/index.js';

await useCpu();

// Three queries, one positive and three negatives each: a 3×4 logit matrix (positive first).
const positive = [[0.5], [0.1], [-0.2]];
const negatives = [
  [0.3, -0.1, 0.2],
  [0.4, 0.0, -0.3],
  [-0.5, 0.1, 0.0],
];

test('InfoNCE equals cross-entropy with the positive in column 0, computed by hand', (t) => {
  const T = 0.5;
  // By hand: loss_i = log(Σ_j exp(l_ij / T)) − l_i0 / T, averaged over the three rows.
  // row 0: logits/T = [1.0, 0.6, -0.2, 0.4]  → log(e^1 + e^.6 + e^-.2 + e^.4) − 1.0 = 0.9243882
  // row 1: logits/T = [0.2, 0.8, 0.0, -0.6]  → log(...) − 0.2 = 1.4085886
  // row 2: logits/T = [-0.4, -1.0, 0.2, 0.0] → log(...) − (−0.4) = 1.5816052
  const byHand = (0.9243882 + 1.4085886 + 1.5816052) / 3;
  const out = new InfoNceLoss(T, false).compute(tf.tensor2d(positive), tf.tensor2d(negatives));
  t.true(Math.abs(out.loss.dataSync()[0] - byHand) < 1e-5, `loss ${out.loss.dataSync()[0]} vs ${byHand}`);
  // Only query 0 ranks its positive first (0.5 > 0.3); queries 1 and 2 do not (0.1 < 0.4, −0.2 < 0.1).
  t.is(out.accuracy.dataSync()[0], Math.fround(1 / 3));
});

test('InfoNCE at temperature 1 matches the textbook formula and is ≈ log(K+1) when all logits tie', (t) => {
  const tie = new InfoNceLoss(1, false).compute(tf.zeros([2, 1]) as never, tf.zeros([2, 7]) as never);
  t.true(Math.abs(tie.loss.dataSync()[0] - Math.log(8)) < 1e-6);
  t.is(tie.accuracy.dataSync()[0], 0, 'a tie is not a correct pick');
});

test('the loss leaks no tensors', (t) => {
  const p = tf.tensor2d(positive);
  const n = tf.tensor2d(negatives);
  const before = tf.memory().numTensors;
  const out = new InfoNceLoss(0.07, false).compute(p, n);
  tf.dispose([out.loss, out.accuracy]);
  t.is(tf.memory().numTensors, before);
});

test('the gradient is (softmax − one-hot at the positive) / (N·τ), computed by hand, for both inputs', (t) => {
  const T = 0.5;
  const [dPos, dNeg] = tf.grads((p: tf.Tensor, n: tf.Tensor) => new InfoNceLoss(T, false).compute(p as tf.Tensor2D, n as tf.Tensor2D).loss)(
    [tf.tensor2d(positive), tf.tensor2d(negatives)],
  );
  // By hand, row by row: p = softmax(logits/T); ∂/∂positive = (p₀ − 1)/(3T); ∂/∂negative_j = p_j/(3T).
  const rows = positive.map((p, i) => [p[0], ...negatives[i]].map((v) => v / T));
  const expected = rows.map((z) => {
    const e = z.map(Math.exp);
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v, j) => (v / sum - (j === 0 ? 1 : 0)) / (3 * T));
  });
  const got = [dPos.arraySync() as number[][], dNeg.arraySync() as number[][]];
  for (let i = 0; i < 3; i++) {
    t.true(Math.abs(got[0][i][0] - expected[i][0]) < 1e-6, `row ${i} positive: ${got[0][i][0]} vs ${expected[i][0]}`);
    for (let j = 0; j < 3; j++) t.true(Math.abs(got[1][i][j] - expected[i][j + 1]) < 1e-6, `row ${i} negative ${j}`);
  }
  // The gradients of one row sum to zero (softmax minus a one-hot).
  t.true(Math.abs((got[0][0][0] + got[1][0].reduce((a, b) => a + b, 0))) < 1e-6);
});

test('logits far beyond exp range (τ 0.07, similarities ±1 scaled up) give a finite loss and gradient', (t) => {
  const p = tf.tensor2d([[60], [-60]]);
  const n = tf.tensor2d([[-60, 50], [60, 59]]);
  const [dp, dn] = tf.grads((a: tf.Tensor, b: tf.Tensor) => new InfoNceLoss(0.07, false).compute(a as tf.Tensor2D, b as tf.Tensor2D).loss)([p, n]);
  const loss = new InfoNceLoss(0.07, false).compute(p, n).loss.dataSync()[0];
  // row 0: the positive wins by 10/0.07: loss ≈ 0; row 1: the positive loses by 120/0.07 ≈ 1714.3 (plus log(1+e^{-1/0.07}))
  t.true(Math.abs(loss - (120 / 0.07) / 2) < 1e-2, `loss ${loss}`);
  for (const v of [...dp.dataSync(), ...dn.dataSync()]) t.true(Number.isFinite(v));
});
