import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { evaluateEncoder, freshCopy } from '../../src/eval/baselines.js';
import type { LabeledImages } from '../../src/eval/features.js';
import { smallConvNet } from '../../src/models/small-convnet.js';

test.before(async () => {
  await useCpu();
});

/** 8×8 grey images: class 0 bright in the top half, class 1 in the bottom half, plus noise. */
function stripes(count: number, seed: number): LabeledImages {
  let a = seed;
  const rand = () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  const images = new Uint8Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const bright = (y < 4) === (labels[i] === 0);
        images[i * 64 + y * 8 + x] = Math.round((bright ? 150 : 30) + 100 * rand());
      }
    }
  }
  return { images, count, height: 8, width: 8, channels: 1, labels };
}

const encoderOptions = { inputShape: [8, 8, 1] as [number, number, number], width: 2 };

test.serial('every accuracy beside its baselines, without training the encoder or leaking tensors', async (t) => {
  const train = stripes(40, 1);
  const testSet = stripes(20, 2);
  const encoder = smallConvNet({ ...encoderOptions, seed: 1 });
  const weightsBefore = encoder.getWeights().map((w) => Array.from(w.dataSync()));
  const before = tf.memory().numTensors;
  const messages: string[] = [];
  const r = await evaluateEncoder({
    encoder,
    train,
    test: testSet,
    knn: { k: 5 },
    probe: { epochs: 5, batchSize: 16 },
    log: (m) => messages.push(m),
  });
  t.is(tf.memory().numTensors, before);
  t.deepEqual(Object.keys(r.knn).sort(), ['encoder', 'randomInit', 'rawPixels', 'rawPixelsCentered']);
  for (const v of [...Object.values(r.knn), ...Object.values(r.linear!)]) t.true(typeof v === 'number' && v >= 0 && v <= 1);
  t.deepEqual(Object.keys(r.linear!).sort(), ['encoder', 'randomInit', 'rawPixels']);
  // the classes differ in where the bright half is: trivial for raw pixels
  t.is(r.knn.rawPixels, 1);
  t.is(r.knn.rawPixelsCentered, 1);
  t.is(r.linear!.rawPixels, 1);
  t.is(r.numClasses, 2);
  t.is(r.trainCount, 40);
  t.is(r.testCount, 20);
  t.is(messages.length, 7); // kNN ×4, linear ×3
  // The encoder was only run in inference mode: weights and BN statistics unchanged.
  encoder.getWeights().forEach((w, i) => t.is(maxAbsDiff(w, weightsBefore[i]), 0));
  // A seeded encoder that is still at its initialisation *is* its random-init baseline.
  t.is(r.knn.randomInit, r.knn.encoder);
  t.is(r.linear!.randomInit, r.linear!.encoder);
  encoder.dispose();
});

test.serial('baselines can be skipped; an explicit random-init encoder is used and left alive', async (t) => {
  const train = stripes(20, 3);
  const testSet = stripes(10, 4);
  const encoder = smallConvNet({ ...encoderOptions, seed: 1 });
  const other = smallConvNet({ ...encoderOptions, seed: 2 });
  const before = tf.memory().numTensors;
  const skipped = await evaluateEncoder({ encoder, randomInitEncoder: null, rawPixels: false, train, test: testSet, knn: { k: 3 } });
  t.deepEqual(skipped.knn, { encoder: skipped.knn.encoder, randomInit: null, rawPixels: null, rawPixelsCentered: null });
  t.is(skipped.linear, undefined);
  const explicit = await evaluateEncoder({ encoder, randomInitEncoder: other, centeredPixels: false, train, test: testSet, knn: { k: 3 } });
  t.is(typeof explicit.knn.randomInit, 'number');
  t.is(typeof explicit.knn.rawPixels, 'number');
  t.is(explicit.knn.rawPixelsCentered, null);
  t.is(tf.memory().numTensors, before);
  t.notThrows(() => other.getWeights()[0].dataSync()); // not disposed
  encoder.dispose();
  other.dispose();
});

test.serial('freshCopy rebuilds the architecture with its initialisers: same names, same seeded start', async (t) => {
  const seeded = smallConvNet({ ...encoderOptions, seed: 11 });
  const copy = await freshCopy(seeded);
  t.deepEqual(copy.layers.map((l) => l.name), seeded.layers.map((l) => l.name));
  const k = 'stage2_0_conv1';
  t.is(maxAbsDiff(copy.getLayer(k).getWeights()[0], seeded.getLayer(k).getWeights()[0]), 0);
  const unseeded = smallConvNet(encoderOptions);
  const copy2 = await freshCopy(unseeded);
  t.true(maxAbsDiff(copy2.getLayer(k).getWeights()[0], unseeded.getLayer(k).getWeights()[0]) > 0);
  for (const m of [seeded, copy, unseeded, copy2]) m.dispose();
});

test.serial('evaluateEncoder requires labels', async (t) => {
  const encoder = smallConvNet({ ...encoderOptions, seed: 1 });
  const { labels: _labels, ...unlabelled } = stripes(4, 1);
  await t.throwsAsync(evaluateEncoder({ encoder, train: unlabelled, test: stripes(4, 2) }), { message: /train set has no labels/ });
  encoder.dispose();
});
