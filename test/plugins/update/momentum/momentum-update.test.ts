import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { Random, createMoco, type StepContext } from '../../../../src/index.js';
import { builtinPlugins, MomentumUpdate } from '../../../../plugins/index.js';

await useCpu();
const ctx: StepContext = { epoch: 0, step: 0, progress: 0, random: new Random(0) };

test.serial('EMA of known weights after two updates: θk ← m·θk + (1−m)·θq', (t) => {
  const pair = { query: tf.variable(tf.tensor1d([3, -1])), key: tf.variable(tf.tensor1d([1, 1])) };
  const rule = new MomentumUpdate('momentum', 0.9);
  rule.apply([pair], ctx);
  // 0.9·1 + 0.1·3 = 1.2 and 0.9·1 + 0.1·(−1) = 0.8
  t.deepEqual(Array.from(pair.key.dataSync()).map((v) => +v.toFixed(6)), [1.2, 0.8]);
  rule.apply([pair], ctx);
  // 0.9·1.2 + 0.3 = 1.38 and 0.9·0.8 − 0.1 = 0.62
  t.deepEqual(Array.from(pair.key.dataSync()).map((v) => +v.toFixed(6)), [1.38, 0.62]);
  t.deepEqual(Array.from(pair.query.dataSync()), [3, -1], 'the query weights are only read');
  t.is(rule.momentumAt(), 0.9);
});

test.serial('m = 0 makes the key an exact copy of the query', (t) => {
  const pair = { query: tf.variable(tf.tensor1d([0.123456789, -7.5])), key: tf.variable(tf.tensor1d([100, 100])) };
  new MomentumUpdate('copy', 0).apply([pair], ctx);
  t.deepEqual(Array.from(pair.key.dataSync()), Array.from(pair.query.dataSync()));
});

test.serial('the EMA leaks no tensors', (t) => {
  const pair = { query: tf.variable(tf.ones([4, 4])), key: tf.variable(tf.zeros([4, 4])) };
  const rule = new MomentumUpdate('momentum', 0.99);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) rule.apply([pair], ctx);
  t.is(tf.memory().numTensors, before);
});

test.serial('in training, the key encoder starts as a copy, gets no gradient, and keeps its own BN statistics', async (t) => {
  // m = 1: the key encoder must never move from its initial weights, while the query encoder trains.
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'emak'),
    plugins: builtinPlugins,
    config: { dictionary: { size: 16 }, update: { keyEncoderMomentum: 1 }, normalization: { groups: 2 }, optimizer: { learningRate: 0.1 } },
  });
  await moco.build();
  const trainableQuery0 = moco.queryEncoder!.trainableWeights.map((w) => Array.from(w.read().dataSync()));
  const key = moco.keyEncoder!;
  const keyTrainable0 = moco.trainingStep!.networks.weightPairs.map((p) => Array.from(p.key.dataSync()));
  t.deepEqual(keyTrainable0, trainableQuery0, 'the key encoder starts as an exact copy');
  t.is(key.trainableWeights.length, 0, 'the key encoder is not trainable');
  const movingMean = () => Array.from(key.getLayer('emak_bn1').getWeights()[2].dataSync());
  const mm0 = movingMean();
  await moco.fit(randomImages(8), { epochs: 2, batchSize: 4 });
  const keyTrainable1 = moco.trainingStep!.networks.weightPairs.map((p) => Array.from(p.key.dataSync()));
  t.deepEqual(keyTrainable1, keyTrainable0, 'optimizer steps never touched the key encoder');
  const queryMoved = moco.trainingStep!.networks.weightPairs.some((p) => Array.from(p.query.dataSync()).some((v, i) => v !== Array.from(p.key.dataSync())[i]));
  t.true(queryMoved, 'the query encoder did train');
  t.notDeepEqual(movingMean(), mm0, 'the key encoder updates its own BatchNorm moving statistics');
  moco.dispose();
});
