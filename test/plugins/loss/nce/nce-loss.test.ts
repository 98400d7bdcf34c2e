import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { createMoco } from '../../../../src/index.js';
import { NceLoss, builtinPlugins } from '../../../../plugins/index.js';

await useCpu();

// Two queries: similarity to the positive, and to K = 2 negatives.
const positive = [[0.5], [-0.2]];
const negatives = [
  [0.3, -0.1],
  [0.4, 0.0],
];

/** NCE written out from Wu et al. 2018, Sec. 3.2: h = e^(s/τ) / (e^(s/τ) + c), loss = −log h(s⁺) − Σ log(1 − h(s_k)), batch mean. */
function nceByHand(pos: number[][], neg: number[][], tau: number, c: number): number {
  const h = (s: number) => Math.exp(s / tau) / (Math.exp(s / tau) + c);
  const rows = pos.map(([p], i) => -Math.log(h(p)) - neg[i].reduce((acc, s) => acc + Math.log(1 - h(s)), 0));
  return rows.reduce((a, b) => a + b, 0) / rows.length;
}
const value = (t: tf.Tensor) => t.dataSync()[0];

test("normalizer 'none' (c = 1): logistic loss on s/τ, positive vs each negative, by hand", (t) => {
  const out = new NceLoss(1, 'none', false).compute(tf.tensor2d(positive), tf.tensor2d(negatives));
  // row 0: ln(1+e^−0.5) + ln(1+e^0.3) + ln(1+e^−0.1) = 0.474077 + 0.854355 + 0.644397 = 1.972829
  // row 1: ln(1+e^0.2) + ln(1+e^0.4) + ln 2           = 0.798139 + 0.913015 + 0.693147 = 2.404301
  t.true(Math.abs(value(out.loss) - (1.972829 + 2.404301) / 2) < 1e-5, `${value(out.loss)}`);
  t.true(Math.abs(value(out.loss) - nceByHand(positive, negatives, 1, 1)) < 1e-5);
  // Pretext accuracy as InfoNCE: query 0 ranks its positive first (0.5 > 0.3), query 1 does not (−0.2 < 0.4).
  t.is(value(out.accuracy), 0.5);
});

test("normalizer 'first-step': c = K·mean e^(s_k/τ) on the first batch (Z by Monte Carlo, Pn = 1/n), then fixed", (t) => {
  const tau = 0.5;
  const loss = new NceLoss(tau, 'first-step', false);
  // negatives/τ = [0.6, −0.2, 0.8, 0]: c = 2 · (e^0.6 + e^−0.2 + e^0.8 + 1) / 4
  const c = (2 * (Math.exp(0.6) + Math.exp(-0.2) + Math.exp(0.8) + 1)) / 4;
  const first = loss.compute(tf.tensor2d(positive), tf.tensor2d(negatives));
  t.true(Math.abs(loss.noiseLogScale! - Math.log(c)) < 1e-5);
  t.true(Math.abs(value(first.loss) - nceByHand(positive, negatives, tau, c)) < 1e-5, `${value(first.loss)} vs ${nceByHand(positive, negatives, tau, c)}`);
  // A second batch with other similarities keeps the first batch's c.
  const neg2 = [[-0.9, 0.9], [0.1, 0.2]];
  const second = loss.compute(tf.tensor2d(positive), tf.tensor2d(neg2));
  t.true(Math.abs(value(second.loss) - nceByHand(positive, neg2, tau, c)) < 1e-5);
  t.true(Math.abs(loss.noiseLogScale! - Math.log(c)) < 1e-5);
});

test("normalizer 'per-step': c from each batch, as a constant (no gradient through it)", (t) => {
  const tau = 0.5;
  const loss = new NceLoss(tau, 'per-step', false);
  const c = (2 * (Math.exp(0.6) + Math.exp(-0.2) + Math.exp(0.8) + 1)) / 4;
  t.true(Math.abs(value(loss.compute(tf.tensor2d(positive), tf.tensor2d(negatives)).loss) - nceByHand(positive, negatives, tau, c)) < 1e-5);
  t.is(loss.noiseLogScale, undefined);
  // With c constant: ∂loss/∂s_ik = h(s_ik)/τ / N and ∂loss/∂s⁺_i = −(1 − h(s⁺_i))/τ / N.
  const h = (s: number) => Math.exp(s / tau) / (Math.exp(s / tau) + c);
  const [dPos, dNeg] = tf.grads((p: tf.Tensor, n: tf.Tensor) => loss.compute(p as tf.Tensor2D, n as tf.Tensor2D).loss)([tf.tensor2d(positive), tf.tensor2d(negatives)]);
  t.true(maxAbsDiff(dNeg, negatives.flat().map((s) => h(s) / tau / 2)) < 1e-5, JSON.stringify(dNeg.arraySync()));
  t.true(maxAbsDiff(dPos, positive.flat().map((s) => -(1 - h(s)) / tau / 2)) < 1e-5);
});

test('NCE is finite at τ = 0.07 with similarities near ±1, and zero with no negatives', (t) => {
  const out = new NceLoss(0.07, 'first-step', false).compute(tf.tensor2d([[1], [-1]]), tf.tensor2d([[-1, 1], [1, 1]]));
  t.true(Number.isFinite(value(out.loss)));
  const none = new NceLoss(0.07, 'per-step', false).compute(tf.tensor2d([[0.3]]), tf.zeros([1, 0]) as tf.Tensor2D);
  t.is(value(none.loss), 0);
});

test.serial('the loss leaks no tensors', (t) => {
  const p = tf.tensor2d(positive);
  const n = tf.tensor2d(negatives);
  for (const normalizer of ['first-step', 'per-step', 'none'] as const) {
    const loss = new NceLoss(0.1, normalizer, false);
    const before = tf.memory().numTensors;
    const out = loss.compute(p, n);
    tf.dispose([out.loss, out.accuracy]);
    t.is(tf.memory().numTensors, before, normalizer);
  }
});

test.serial('nce swaps in for infonce by config: the memory bank trains with it', async (t) => {
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'nce'),
    plugins: builtinPlugins,
    config: { preset: 'memory-bank', loss: 'nce', dictionary: { negatives: 16 }, normalization: { groups: 2 }, head: { dim: 8 }, augmentation: 'crop-flip' },
  });
  t.like(moco.config, { loss: { id: 'nce', temperature: 0.07, normalizer: 'first-step', symmetric: false } });
  const steps: { loss: number; accuracy: number }[] = [];
  moco.on('step').subscribe((e) => steps.push({ loss: e.loss, accuracy: e.pretextAccuracy }));
  await moco.fit(randomImages(8), { epochs: 1, batchSize: 4 });
  t.is(steps.length, 2);
  for (const s of steps) {
    t.true(Number.isFinite(s.loss) && s.loss > 0);
    t.true(s.accuracy >= 0 && s.accuracy <= 1);
  }
  moco.dispose();
});
