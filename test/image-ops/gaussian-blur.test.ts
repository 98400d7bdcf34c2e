import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { Random } from '../../src/index.js';
import { blurKernelSize, gaussianBlur, gaussianKernel1d, randomGaussianBlur } from '../../src/image-ops/index.js';

await useCpu();

/** A [1,size,size,1] image with a single 1 in the centre. */
const impulse = (size: number) => tf.tensor4d(Array.from({ length: size * size }, (_, i) => (i === (size * size - 1) / 2 ? 1 : 0)), [1, size, size, 1]);
const sum = (x: tf.Tensor) => tf.sum(x).dataSync()[0];

test('the 1-D kernel is a normalised Gaussian; the kernel size is 10% of the image, odd, at least 3', (t) => {
  const k = gaussianKernel1d(1, 2);
  const w = [-2, -1, 0, 1, 2].map((x) => Math.exp(-(x * x) / 2));
  const s = w.reduce((a, b) => a + b);
  t.true(maxAbsDiff(k, w.map((x) => x / s)) < 1e-7);
  t.deepEqual(Array.from(gaussianKernel1d(0, 1)), [0, 1, 0]);
  t.deepEqual([blurKernelSize(8, 8), blurKernelSize(28, 28), blurKernelSize(32, 32), blurKernelSize(96, 96), blurKernelSize(224, 224)], [3, 3, 3, 9, 23]);
});

test('a tiny σ is nearly the identity; a constant image is unchanged', (t) => {
  const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  t.true(maxAbsDiff(gaussianBlur(x, [0.1, 0.1], 3), x) < 1e-6);
  t.true(maxAbsDiff(gaussianBlur(x, [0, 0], 5), x) === 0, 'σ 0 is exactly the identity');
  const flat = tf.fill([2, 6, 6, 3], 0.37) as tf.Tensor4D;
  t.true(maxAbsDiff(gaussianBlur(flat, [0.5, 2], 5), flat) < 1e-6);
});

test('a blurred impulse sums to 1, is symmetric and is the outer product of the 1-D kernel', (t) => {
  const out = gaussianBlur(impulse(7), [1.2], 5);
  t.true(Math.abs(sum(out) - 1) < 1e-6);
  const a = tf.reshape(out, [7, 7]);
  t.true(maxAbsDiff(a, tf.reverse(a, 0)) < 1e-7);
  t.true(maxAbsDiff(a, tf.reverse(a, 1)) < 1e-7);
  t.true(maxAbsDiff(a, tf.transpose(a)) < 1e-7);
  const k = gaussianKernel1d(1.2, 2);
  const want = new Float32Array(49);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) want[(y + 1) * 7 + x + 1] = k[y] * k[x];
  t.true(maxAbsDiff(out, want) < 1e-7);
});

test('borders are reflect-padded as torchvision (checked against a plain-JS separable convolution)', (t) => {
  const [h, w] = [5, 6];
  const x = tf.randomUniform([1, h, w, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
  const px = x.dataSync();
  const k = gaussianKernel1d(1.5, 2);
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
  const vertical = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) for (let j = -2; j <= 2; j++) vertical[y * w + c] += k[j + 2] * px[reflect(y + j, h) * w + c];
  const want = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) for (let j = -2; j <= 2; j++) want[y * w + c] += k[j + 2] * vertical[y * w + reflect(c + j, w)];
  t.true(maxAbsDiff(gaussianBlur(x, [1.5], 5), want) < 1e-6);
});

test('σ is per image: each image and channel of a batch is blurred as it would be alone', (t) => {
  const two = tf.concat([impulse(7), impulse(7)]);
  const out = gaussianBlur(two, [0.5, 2], 5);
  const [a, b] = tf.split(out, 2);
  t.true(maxAbsDiff(a, b) > 0.05, 'different σ, different blur');
  t.true(maxAbsDiff(a, gaussianBlur(impulse(7), [0.5], 5)) < 1e-7);
  t.true(maxAbsDiff(b, gaussianBlur(impulse(7), [2], 5)) < 1e-7);
  // An RGB batch: the [N,H,W,C] ↔ channels layout keeps every (image, channel) apart.
  const x = tf.randomUniform([3, 5, 6, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const sigmas = [0.3, 1, 2];
  const blurred = gaussianBlur(x, sigmas, 3);
  for (let i = 0; i < 3; i++) {
    for (let c = 0; c < 3; c++) {
      const alone = gaussianBlur(tf.slice(x, [i, 0, 0, c], [1, 5, 6, 1]), [sigmas[i]], 3);
      t.true(maxAbsDiff(tf.slice(blurred, [i, 0, 0, c], [1, 5, 6, 1]), alone) < 1e-6, `image ${i} channel ${c}`);
    }
  }
});

test('random blur: p 0 returns the input, p 1 blurs every image, seeded', (t) => {
  const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  t.is(randomGaussianBlur(x, { probability: 0, sigma: [0.1, 2] }, new Random(1)), x);
  const a = randomGaussianBlur(x, { probability: 1, sigma: [1, 2] }, new Random(1));
  const b = randomGaussianBlur(x, { probability: 1, sigma: [1, 2] }, new Random(1));
  t.deepEqual(a.dataSync(), b.dataSync());
  for (const [u, v] of tf.split(a, 4).map((ai, i) => [ai, tf.slice(x, [i], [1])])) t.true(maxAbsDiff(u, v) > 0.01);
});
