import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random/random.js';
import { coinFlips, uniform } from './per-image.js';

/**
 * The 1-D Gaussian kernel of `2·radius + 1` taps at x = −radius..radius, exp(−x²/2σ²) normalised to
 * sum 1 (torchvision's `_get_gaussian_kernel1d`). σ ≤ 0 gives the identity kernel (a centred 1).
 */
export function gaussianKernel1d(sigma: number, radius: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  if (!(sigma > 0)) {
    k[radius] = 1;
    return k;
  }
  let sum = 0;
  for (let x = -radius; x <= radius; x++) sum += k[x + radius] = Math.exp(-(x * x) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * SimCLR/MoCo v2 kernel size: `fraction` (10%) of the shorter side, rounded down, made odd, at least 3
 * (so small images are still blurred: 28 or 32 px → 3, 96 → 9, 224 → 23).
 */
export function blurKernelSize(height: number, width: number, fraction = 0.1): number {
  const k = Math.max(3, Math.floor(fraction * Math.min(height, width)));
  return k % 2 === 1 ? k : k + 1;
}

/**
 * Reflect-pad an [H,W,K] tensor by r along axis 0 or 1 (torchvision's 'reflect': the edge row is not
 * repeated), from single-row/column slices and one concat on a 2-D view — on the cpu backend several
 * times faster than tf.mirrorPad, whose kernel is a generic per-element loop.
 */
export function reflectPad(x: tf.Tensor3D, axis: 0 | 1, r: number): tf.Tensor3D {
  const [h, w, k] = x.shape;
  const len = axis === 0 ? h : w;
  if (r <= 0) return x;
  if (r >= len) throw new Error(`reflectPad: padding ${r} needs a side longer than ${r}, got ${len}`);
  return tf.tidy(() => {
    const flat = tf.reshape(x, [h, w * k]) as tf.Tensor2D;
    const line = (i: number) => (axis === 0 ? tf.slice(flat, [i, 0], [1, w * k]) : tf.slice(flat, [0, i * k], [h, k]));
    const before = Array.from({ length: r }, (_, j) => line(r - j));
    const after = Array.from({ length: r }, (_, j) => line(len - 2 - j));
    const padded = tf.concat([...before, flat, ...after], axis);
    return tf.reshape(padded, axis === 0 ? [h + 2 * r, w, k] : [h, w + 2 * r, k]) as tf.Tensor3D;
  });
}

/**
 * Gaussian blur with its own σ per image (σ ≤ 0: unchanged), separable, reflect padding as
 * torchvision. The batch is laid out as the channels of one image ([N,H,W,C] → [H,W,N·C]) so two
 * depthwiseConv2d calls (vertical then horizontal) apply a different kernel to every image and
 * channel at once — exact per image, no σ buckets. The radius is capped at size − 1 (reflect needs it).
 */
export function gaussianBlur(images: tf.Tensor4D, sigmas: ArrayLike<number>, kernelSize: number): tf.Tensor4D {
  const [n, height, width, channels] = images.shape;
  if (sigmas.length !== n) throw new Error(`gaussianBlur: expected one σ per image (${n}), got ${sigmas.length}`);
  const radius = Math.min(Math.floor(kernelSize / 2), height - 1, width - 1);
  if (radius <= 0 || n === 0) return images;
  const taps = 2 * radius + 1;
  const nc = n * channels;
  // Filter [taps, 1, N·C, 1] (and its transpose [1, taps, N·C, 1]): tap t of channel i·C + c at t·N·C + i·C + c.
  const weights = new Float32Array(taps * nc);
  for (let i = 0; i < n; i++) {
    const kernel = gaussianKernel1d(sigmas[i], radius);
    for (let t = 0; t < taps; t++) weights.fill(kernel[t], t * nc + i * channels, t * nc + (i + 1) * channels);
  }
  return tf.tidy(() => {
    const stacked = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [height, width, nc]) as tf.Tensor3D;
    const tall = tf.reshape(reflectPad(stacked, 0, radius), [1, height + 2 * radius, width, nc]) as tf.Tensor4D;
    const vertical = tf.reshape(tf.depthwiseConv2d(tall, tf.tensor4d(weights, [taps, 1, nc, 1]), 1, 'valid'), [height, width, nc]) as tf.Tensor3D;
    const wide = tf.reshape(reflectPad(vertical, 1, radius), [1, height, width + 2 * radius, nc]) as tf.Tensor4D;
    const blurred = tf.depthwiseConv2d(wide, tf.tensor4d(weights, [1, taps, nc, 1]), 1, 'valid');
    return tf.transpose(tf.reshape(blurred, [height, width, n, channels]), [2, 0, 1, 3]) as tf.Tensor4D;
  });
}

export interface GaussianBlurOptions {
  /** Chance that an image is blurred (MoCo v2: 0.5). */
  readonly probability: number;
  /** σ drawn uniformly from [min, max] per image (MoCo v2: [0.1, 2]). */
  readonly sigma: readonly [number, number];
  /** Odd kernel size; by default `blurKernelSize` of the image (10% of the shorter side). */
  readonly kernelSize?: number;
}

/**
 * torchvision `RandomApply([GaussianBlur(k, σ range)], p)` on a batch: each image blurred with
 * probability p with its own σ; the others get σ 0 (the identity kernel, exact) in the same two convs.
 * Draws N coin flips then N σ's.
 */
export function randomGaussianBlur(images: tf.Tensor4D, opts: GaussianBlurOptions, random: Random): tf.Tensor4D {
  const [n, height, width] = images.shape;
  const mask = coinFlips(n, opts.probability, random);
  const sigmas = uniform(n, opts.sigma[0], opts.sigma[1], random);
  if (!mask.some((m) => m)) return images;
  for (let i = 0; i < n; i++) if (!mask[i]) sigmas[i] = 0;
  return gaussianBlur(images, sigmas, opts.kernelSize ?? blurKernelSize(height, width));
}
