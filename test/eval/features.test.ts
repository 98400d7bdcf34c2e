import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { extractFeatures, pixelMean, rawPixelFeatures, type LabeledImages } from '../../src/eval/features.js';
import { l2Normalize } from '../../src/math/l2-normalize.js';

test.before(async () => {
  await useCpu();
});

/** 5 images of 2×2×2 with pixel value (7·i + 3·p) mod 256 at position p of image i. */
function handSet(): LabeledImages {
  const count = 5;
  const images = new Uint8Array(count * 8);
  for (let i = 0; i < count; i++) for (let p = 0; p < 8; p++) images[i * 8 + p] = (7 * i + 3 * p + 40 * i * i) % 256;
  return { images, count, height: 2, width: 2, channels: 2, labels: Int32Array.from([0, 1, 0, 1, 1]) };
}

/** Per-image, per-channel mean of the pixels / 255: what a global-average-pool model returns. */
function channelMeans(set: LabeledImages): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < set.count; i++) {
    const row = [0, 0];
    for (let p = 0; p < 4; p++) for (let c = 0; c < 2; c++) row[c] += set.images[i * 8 + p * 2 + c] / 255 / 4;
    out.push(row);
  }
  return out;
}

function gapModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [2, 2, 2] });
  return tfl.model({ inputs: input, outputs: tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor });
}

test.serial('extractFeatures: pixels/255 through the model, batched, optionally L2-normalised', (t) => {
  const set = handSet();
  const model = gapModel();
  const before = tf.memory().numTensors;
  const expected = channelMeans(set);
  const raw = extractFeatures(model, set, { normalize: false, batchSize: 2 }); // batches of 2, 2, 1
  t.deepEqual(raw.shape, [5, 2]);
  t.true(maxAbsDiff(raw, expected.flat()) < 1e-6);
  const unit = extractFeatures(model, set); // defaults: one batch, normalised
  const expectedUnit = expected.flatMap(([a, b]) => [a / Math.hypot(a, b), b / Math.hypot(a, b)]);
  t.true(maxAbsDiff(unit, expectedUnit) < 1e-6);
  tf.dispose([raw, unit]);
  t.is(tf.memory().numTensors, before);
  model.dispose();
});

test.serial('extractFeatures runs in inference mode (BN running statistics untouched) and applies preprocess', (t) => {
  const set = handSet();
  const input = tfl.input({ shape: [2, 2, 2] });
  const bn = tfl.layers.batchNormalization({ name: 'bn' });
  const out = tfl.layers.flatten().apply(bn.apply(input)) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const before = tf.memory().numTensors;
  const f = extractFeatures(model, set, { normalize: false, preprocess: (x) => tf.mul(x, 2) });
  // inference BN with fresh statistics (mean 0, variance 1) is x / sqrt(1 + 1e-3)
  const expected = Array.from(set.images, (v) => (2 * v) / 255 / Math.sqrt(1 + 1e-3));
  t.true(maxAbsDiff(f, expected) < 1e-5);
  // getWeights returns the variables' own tensors: read, do not dispose
  const [, , movingMean, movingVar] = bn.getWeights();
  t.is(maxAbsDiff(movingMean, [0, 0]), 0);
  t.is(maxAbsDiff(movingVar, [1, 1]), 0);
  f.dispose();
  t.is(tf.memory().numTensors, before);
  model.dispose();
});

test.serial('extractFeatures rejects a set whose byte count does not match its shape', (t) => {
  const model = gapModel();
  const bad = { ...handSet(), count: 6 };
  t.throws(() => extractFeatures(model, bad), { message: /bytes, expected/ });
  model.dispose();
});

test.serial('rawPixelFeatures: flattened pixels/255, centred by its own or a given mean', (t) => {
  const set = handSet();
  const before = tf.memory().numTensors;
  const plain = rawPixelFeatures(set);
  t.deepEqual(plain.shape, [5, 8]);
  t.true(maxAbsDiff(plain, Array.from(set.images, (v) => v / 255)) < 1e-7);

  const mean = pixelMean(set);
  const expectedMean = Array.from({ length: 8 }, (_, p) => {
    let s = 0;
    for (let i = 0; i < 5; i++) s += set.images[i * 8 + p];
    return s / 5 / 255;
  });
  t.true(maxAbsDiff(mean, expectedMean) < 1e-7);

  const own = rawPixelFeatures(set, { center: true });
  const colSums = tf.sum(own, 0);
  t.true(maxAbsDiff(colSums, new Array(8).fill(0)) < 1e-6);
  const given = rawPixelFeatures(set, { center: mean, normalize: true });
  const expectedGiven = tf.tidy(() => l2Normalize(tf.sub(plain, mean)));
  t.true(maxAbsDiff(given, expectedGiven) < 1e-6);
  const norms = tf.tidy(() => tf.norm(given, 'euclidean', 1));
  t.true(maxAbsDiff(norms, new Array(5).fill(1)) < 1e-6);
  const wrongMean = tf.zeros([3]) as tf.Tensor1D;
  t.throws(() => rawPixelFeatures(set, { center: wrongMean }), { message: /mean has 3 values/ });

  tf.dispose([plain, mean, own, colSums, given, expectedGiven, norms, wrongMean]);
  t.is(tf.memory().numTensors, before);
});
