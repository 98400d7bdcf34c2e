import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { Random, createMoco, type StepContext } from '../../../../src/index.js';
import { MomentumUpdate, builtinPlugins } from '../../../../plugins/index.js';

await useCpu();
const at = (progress: number): StepContext => ({ epoch: 0, step: 0, progress, random: new Random(0) });
const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

test('cosine momentum: m0 at progress 0, halfway to 1 at 0.5, 1 at the end', (t) => {
  const rule = new MomentumUpdate('momentum', 0.99, 'cosine');
  t.true(close(rule.momentumAt(at(0)), 0.99));
  // 1 − 0.01·(cos(π/2) + 1)/2 = 1 − 0.005
  t.true(close(rule.momentumAt(at(0.5)), 0.995));
  t.is(rule.momentumAt(at(1)), 1);
  // 1 − 0.01·(cos(π/4) + 1)/2 = 0.99146446...
  t.true(close(rule.momentumAt(at(0.25)), 1 - 0.01 * (Math.SQRT1_2 + 1) / 2));
  t.is(rule.momentumAt(), 0.99, 'without a context: m0');
  const constant = new MomentumUpdate('momentum', 0.99);
  t.is(constant.schedule, 'constant');
  t.is(constant.momentumAt(at(0.5)), 0.99);
});

test.serial('the EMA uses the scheduled m; at m = 1 the key encoder stays put', (t) => {
  const rule = new MomentumUpdate('momentum', 0.9, 'cosine');
  const pair = { query: tf.variable(tf.tensor1d([3, -1])), key: tf.variable(tf.tensor1d([1, 1])) };
  // progress 0.5: m = 1 − 0.1·0.5 = 0.95 → 0.95·1 + 0.05·3 = 1.1 and 0.95·1 − 0.05 = 0.9
  rule.apply([pair], at(0.5));
  t.deepEqual(Array.from(pair.key.dataSync()).map((v) => +v.toFixed(6)), [1.1, 0.9]);
  const before = tf.memory().numTensors;
  rule.apply([pair], at(1));
  t.deepEqual(Array.from(pair.key.dataSync()).map((v) => +v.toFixed(6)), [1.1, 0.9]);
  t.is(tf.memory().numTensors, before);
});

test.serial('step events report the cosine momentum of each step', async (t) => {
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'cos'),
    plugins: builtinPlugins,
    config: { dictionary: { size: 8 }, update: { keyEncoderMomentum: 0.99, schedule: 'cosine' }, normalization: { groups: 2 }, head: { dim: 8 }, augmentation: 'crop-flip' },
  });
  t.like(moco.config, { update: { id: 'momentum', keyEncoderMomentum: 0.99, schedule: 'cosine' } });
  const momenta: number[] = [];
  moco.on('step').subscribe((e) => momenta.push(e.keyEncoderMomentum!));
  await moco.fit(randomImages(8), { epochs: 2, batchSize: 4 });
  // 4 steps: progress 0, 1/4, 1/2, 3/4.
  const expected = [0, 0.25, 0.5, 0.75].map((p) => 1 - 0.01 * (Math.cos(Math.PI * p) + 1) / 2);
  t.is(momenta.length, 4);
  momenta.forEach((m, i) => t.true(close(m, expected[i]), `step ${i}: ${m} vs ${expected[i]}`));
  moco.dispose();
});

test('an unknown schedule is refused with the field named', (t) => {
  t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'cosx'), plugins: builtinPlugins, config: { update: { schedule: 'linear' } } }), { message: /update\.schedule: .*"constant"\|"cosine" \(got "linear"\)/ });
});
