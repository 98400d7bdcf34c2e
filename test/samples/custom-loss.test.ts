import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../helpers/tf.js';
import { InfoNceLoss } from '../../plugins/index.js';
import { DebiasedContrastiveLoss } from '../../samples/custom-loss/index.js';
import { run } from '../../samples/custom-loss/run.js';

await useCpu();

const positive = [[0.5], [0.1]];
const negatives = [
  [0.3, -0.1, 0.2],
  [0.4, 0.0, -0.3],
];
const value = (t: tf.Tensor) => t.dataSync()[0];

test('debiased loss with τ⁺ = 0 is InfoNCE', (t) => {
  const dcl = new DebiasedContrastiveLoss(0.5, 0, false).compute(tf.tensor2d(positive), tf.tensor2d(negatives));
  const infonce = new InfoNceLoss(0.5, false).compute(tf.tensor2d(positive), tf.tensor2d(negatives));
  t.true(Math.abs(value(dcl.loss) - value(infonce.loss)) < 1e-5);
  t.is(value(dcl.accuracy), value(infonce.accuracy));
});

test('debiased loss with τ⁺ = 0.1 by hand (Chuang et al. 2020)', (t) => {
  const temp = 0.5;
  const tauPlus = 0.1;
  const byHand = positive.map(([p], i) => {
    const pos = Math.exp(p / temp);
    const k = negatives[i].length;
    const ng = Math.max((negatives[i].reduce((a, s) => a + Math.exp(s / temp), 0) - tauPlus * k * pos) / (1 - tauPlus), k * Math.exp(-1 / temp));
    return -Math.log(pos / (pos + ng));
  });
  const out = new DebiasedContrastiveLoss(temp, tauPlus, false).compute(tf.tensor2d(positive), tf.tensor2d(negatives));
  t.true(Math.abs(value(out.loss) - (byHand[0] + byHand[1]) / 2) < 1e-5, `${value(out.loss)} vs ${(byHand[0] + byHand[1]) / 2}`);
  // The clamp: negatives far below the positive would make Ng negative; it stops at K·e^(−1/t).
  const clamped = new DebiasedContrastiveLoss(temp, 0.5, false).compute(tf.tensor2d([[1]]), tf.tensor2d([[-1, -1]]));
  const pos = Math.exp(2);
  t.true(Math.abs(value(clamped.loss) + Math.log(pos / (pos + 2 * Math.exp(-2)))) < 1e-5);
});

test.serial('the sample loads its plugin by config and trains 2 steps', async (t) => {
  const lines: string[] = [];
  const counts: number[] = [];
  await run({ epochs: 1, stepsPerEpoch: 2, log: (l) => (lines.push(l), l.startsWith('step ') && counts.push(tf.memory().numTensors)) });
  t.regex(lines[0], /run started: loss \{"id":"debiased","temperature":0.2,"tauPlus":0.1,"symmetric":false\}/);
  const steps = lines.filter((l) => l.startsWith('step '));
  t.is(steps.length, 2);
  for (const s of steps) t.true(Number.isFinite(Number(/loss (\S+),/.exec(s)![1])), s);
  t.is(counts[1], counts[0], 'no tensor piles up from one step to the next');
});
