import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { Random } from '../../src/index.js';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  grayscale,
  hsvToRgb,
  randomColorJitter,
  randomGrayscale,
  rgbToHsv,
  toLuma,
} from '../../src/image-ops/index.js';

await useCpu();

/** A 2×2 RGB image, pixels listed row-major. */
const PIXELS = [
  [0.2, 0.4, 0.6],
  [0.8, 0.1, 0.3],
  [0.5, 0.5, 0.5],
  [1.0, 0.0, 0.25],
];
const image = (pixels = PIXELS) => tf.tensor4d(pixels.flat(), [1, 2, 2, 3]);
const luma = ([r, g, b]: number[]) => 0.299 * r + 0.587 * g + 0.114 * b;
const clip = (x: number) => Math.min(1, Math.max(0, x));
const close = (a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>, tol = 1e-6) => maxAbsDiff(a, b) <= tol;

test('brightness multiplies by the factor and clips', (t) => {
  for (const f of [0, 0.6, 1.5]) {
    const want = PIXELS.flat().map((x) => clip(f * x));
    t.true(close(adjustBrightness(image(), [f]), want), `f ${f}`);
  }
});

test('contrast blends with the mean of the image luma', (t) => {
  const mean = PIXELS.map(luma).reduce((a, b) => a + b) / 4;
  for (const f of [0, 0.5, 1.8]) {
    const want = PIXELS.flat().map((x) => clip(f * x + (1 - f) * mean));
    t.true(close(adjustContrast(image(), [f]), want), `f ${f}`);
  }
});

test('saturation blends each pixel with its own luma', (t) => {
  for (const f of [0, 0.3, 2]) {
    const want = PIXELS.flatMap((p) => p.map((x) => clip(f * x + (1 - f) * luma(p))));
    t.true(close(adjustSaturation(image(), [f]), want), `f ${f}`);
  }
});

test('factors are per image: a batch equals its images adjusted one by one', (t) => {
  const other = PIXELS.map((p) => p.map((x) => 1 - x));
  const batch = tf.concat([image(), image(other)]);
  for (const adjust of [adjustBrightness, adjustContrast, adjustSaturation, adjustHue]) {
    const f = adjust === adjustHue ? [0.1, -0.3] : [0.5, 1.7];
    const want = tf.concat([adjust(image(), [f[0]]), adjust(image(other), [f[1]])]);
    t.true(close(adjust(batch, f), want), adjust.name);
  }
});

test('rgb→hsv gives torchvision values and hsv→rgb inverts it', (t) => {
  const { h, s, v } = rgbToHsv(image());
  // (0.2,0.4,0.6): blue max, h = (4 + (r−g)/c)/6 = 3.5/6; (0.8,0.1,0.3): red max, h = ((g−b)/c)/6 mod 1; gray: h 0, s 0.
  t.true(close(h, [3.5 / 6, (((0.1 - 0.3) / 0.7 / 6) % 1) + 1, 0, 1 - 0.25 / 6]));
  t.true(close(s, [2 / 3, 0.7 / 0.8, 0, 1]));
  t.true(close(v, [0.6, 0.8, 0.5, 1]));
  const random = tf.randomUniform([2, 3, 3, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const hsv = rgbToHsv(random);
  t.true(close(hsvToRgb(hsv.h, hsv.s, hsv.v), random, 1e-5));
});

test('hue shift by 0 is the identity; by a third of a turn red → green → blue → red', (t) => {
  t.true(close(adjustHue(image(), [0]), image(), 1e-6));
  const primaries = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5], [1, 2, 2, 3]);
  t.true(close(adjustHue(primaries, [1 / 3]), [0, 1, 0, 0, 0, 1, 1, 0, 0, 0.5, 0.5, 0.5], 1e-5));
  t.true(close(adjustHue(primaries, [-1 / 3]), [0, 0, 1, 1, 0, 0, 0, 1, 0, 0.5, 0.5, 0.5], 1e-5));
  // Half a turn: red → cyan; the value and saturation of each pixel are kept.
  t.true(close(adjustHue(tf.tensor4d([0.8, 0.2, 0.2], [1, 1, 1, 3]), [0.5]), [0.2, 0.8, 0.8], 1e-5));
});

test('grayscale: three equal channels with luma weights 0.299/0.587/0.114', (t) => {
  const want = PIXELS.flatMap((p) => [luma(p), luma(p), luma(p)]);
  t.true(close(grayscale(image()), want));
  t.deepEqual(toLuma(image()).shape, [1, 2, 2, 1]);
  const batch = tf.concat([image(), image(), image(), image(), image(), image()]);
  const out = randomGrayscale(batch, 0.5, new Random(1)).arraySync();
  const gray = out.filter((img) => img.flat().every((px) => px[0] === px[1] && px[1] === px[2]));
  t.true(gray.length > 0 && gray.length < 6, 'some but not all of 6 images turned gray at p 0.5');
  t.is(randomGrayscale(batch, 0, new Random(1)), batch);
  t.true(close(randomGrayscale(batch, 1, new Random(1)), tf.concat(Array(6).fill(grayscale(image())))));
});

test('one-channel images: brightness and contrast apply, saturation, hue and grayscale pass through', (t) => {
  const gray = tf.tensor4d([0.1, 0.3, 0.5, 0.9], [1, 2, 2, 1]);
  t.true(close(adjustBrightness(gray, [2]), [0.2, 0.6, 1, 1]));
  t.true(close(adjustContrast(gray, [0.5]), [0.1, 0.3, 0.5, 0.9].map((x) => 0.5 * x + 0.5 * 0.45)));
  t.is(adjustSaturation(gray, [0]), gray);
  t.is(adjustHue(gray, [0.3]), gray);
  t.is(randomGrayscale(gray, 1, new Random(0)), gray);
  const jittered = randomColorJitter(gray, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4, probability: 1 }, new Random(2));
  t.deepEqual(jittered.shape, [1, 2, 2, 1]);
  t.false(close(jittered, gray));
});

test('colour jitter: seeded, per image, within [0,1], and p 0 changes nothing', (t) => {
  const batch = tf.randomUniform([6, 4, 4, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const opts = { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, probability: 1 };
  const a = randomColorJitter(batch, opts, new Random(3));
  const b = randomColorJitter(batch, opts, new Random(3));
  t.deepEqual(a.dataSync(), b.dataSync());
  t.false(close(a, randomColorJitter(batch, opts, new Random(4))));
  t.true(tf.min(a).dataSync()[0] >= 0 && tf.max(a).dataSync()[0] <= 1);
  t.is(randomColorJitter(batch, { ...opts, probability: 0 }, new Random(3)), batch);
  // p 0.5: the images not chosen are returned exactly.
  const half = randomColorJitter(batch, { ...opts, probability: 0.5 }, new Random(3)).arraySync();
  const same = half.filter((img, i) => JSON.stringify(img) === JSON.stringify(batch.arraySync()[i])).length;
  t.true(same > 0 && same < 6);
  t.throws(() => randomColorJitter(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, opts, new Random(0)), { message: /1 or 3 channels, got 4/ });
});
