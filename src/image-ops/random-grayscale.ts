import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random/random.js';
import { applyToSome, assertGrayOrRgb, coinFlips } from './per-image.js';

/** ITU-R 601-2 luma weights for R, G, B (PIL's convert('L'); torchvision uses 0.2989/0.587/0.114). */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

/** [N,H,W,3] × a [3,k] matrix over the channel axis, as one [N·H·W,3] × [3,k] matMul. */
export function mixChannels(images: tf.Tensor4D, matrix: tf.Tensor2D): tf.Tensor4D {
  const [n, h, w] = images.shape;
  return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(images, [-1, images.shape[3]]), matrix), [n, h, w, matrix.shape[1]]) as tf.Tensor4D);
}

/** The luma of every pixel, [N,H,W,1]. A one-channel batch is its own luma. */
export function toLuma(images: tf.Tensor4D): tf.Tensor4D {
  if (assertGrayOrRgb(images, 'grayscale') === 1) return images;
  return tf.tidy(() => mixChannels(images, tf.tensor2d(LUMA_WEIGHTS as unknown as number[], [3, 1])));
}

/**
 * The batch in gray with its channel count kept: for RGB, the luma in all three channels (one matMul
 * with a [3,3] matrix whose columns are the luma weights, so the three channels are bit-identical).
 */
export function grayscale(images: tf.Tensor4D): tf.Tensor4D {
  if (assertGrayOrRgb(images, 'grayscale') === 1) return images;
  return tf.tidy(() => mixChannels(images, tf.tensor2d(LUMA_WEIGHTS.flatMap((wt) => [wt, wt, wt]), [3, 3])));
}

/**
 * torchvision RandomGrayscale(p): each image independently turned gray (3 equal channels) with
 * probability p. A one-channel batch is returned as is (torchvision does the same) and draws nothing.
 */
export function randomGrayscale(images: tf.Tensor4D, p: number, random: Random): tf.Tensor4D {
  if (assertGrayOrRgb(images, 'grayscale') === 1 || p <= 0) return images;
  return applyToSome(images, coinFlips(images.shape[0], p, random), grayscale);
}
