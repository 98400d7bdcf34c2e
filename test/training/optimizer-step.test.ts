import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../helpers/tf.js';
import { learningRateAt, trainerConfigSchema, withWeightDecay } from '../../src/index.js';

await useCpu();

test('SGD with coupled weight decay: θ ← θ − lr·(g + wd·θ) on the first step', (t) => {
  const theta = tf.variable(tf.tensor1d([1, 2]));
  const opt = tf.train.momentum(0.1, 0.9);
  tf.tidy(() => opt.applyGradients(withWeightDecay({ [theta.name]: tf.tensor1d([0.5, 0.5]) }, [theta], 0.1) as never));
  // 1 − 0.1·(0.5 + 0.1·1) = 0.94 ; 2 − 0.1·(0.5 + 0.1·2) = 1.93
  const v = Array.from(theta.dataSync());
  t.true(Math.abs(v[0] - 0.94) < 1e-6 && Math.abs(v[1] - 1.93) < 1e-6, String(v));
  // Second step with zero gradient: momentum carries 0.9·previous update plus the decay term.
  tf.tidy(() => opt.applyGradients(withWeightDecay({ [theta.name]: tf.zeros([2]) }, [theta], 0.1) as never));
  // accum = 0.9·0.6 + 0.1·0.94 = 0.634 → 0.94 − 0.0634 = 0.8766
  t.true(Math.abs(theta.dataSync()[0] - 0.8766) < 1e-6);
});

test('learning-rate schedules: step drops ×gamma at milestones, cosine follows ½(1+cos πp)', (t) => {
  const base = trainerConfigSchema.parse({}).optimizer;
  t.is(learningRateAt(base, 0), 0.03);
  t.is(learningRateAt(base, 0.59), 0.03);
  t.true(Math.abs(learningRateAt(base, 0.6) - 0.003) < 1e-12);
  t.true(Math.abs(learningRateAt(base, 0.95) - 0.0003) < 1e-12);
  const cos = { ...base, schedule: 'cosine' as const, learningRate: 1 };
  t.is(learningRateAt(cos, 0), 1);
  t.true(Math.abs(learningRateAt(cos, 0.5) - 0.5) < 1e-12);
  t.true(Math.abs(learningRateAt(cos, 0.25) - 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-12);
  t.true(learningRateAt(cos, 1) < 1e-12);
  t.is(learningRateAt({ ...base, schedule: 'constant' }, 0.9), 0.03);
});
