import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random/random.js';
import { applyToSome, assertGrayOrRgb, coinFlips, perImage, spreadPerImage, uniform } from './per-image.js';
import { grayscale, toLuma } from './random-grayscale.js';
import { hcvToRgb, rgbToHcv } from './rgb-hsv.js';

/**
 * torchvision ColorJitter as batched tf ops with one random factor per image. Every adjustment takes
 * a batch [N,H,W,C] in [0,1] and one factor per image (or one number for all), and clips to [0,1]
 * as torchvision does after each step.
 *
 * One-channel batches: brightness and contrast apply (contrast against the image's own mean);
 * saturation and hue are colour-only and return the batch unchanged — torchvision's tensor ops do
 * the same for C = 1, so a grayscale data set is augmented by the same recipe without error.
 */

/** blend(a, b, f) = clip(f·a + (1 − f)·b, 0, 1), f per image; a and b of the same shape. */
function blend(a: tf.Tensor4D, b: tf.Tensor4D, f: number | ArrayLike<number>): tf.Tensor4D {
  const oneMinus = typeof f === 'number' ? 1 - f : Float32Array.from(f, (x) => 1 - x);
  return tf.clipByValue(tf.add(tf.mul(perImage(f, a.shape), a), tf.mul(perImage(oneMinus, a.shape), b)), 0, 1) as tf.Tensor4D;
}

/** Brightness: the image times f (f = 0 black, 1 unchanged), clipped. */
export function adjustBrightness(images: tf.Tensor4D, factors: number | ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(images, perImage(factors, images.shape)), 0, 1) as tf.Tensor4D);
}

/**
 * Contrast: blend with the mean m of the image's luma (a per-image constant gray), f = 0 gives that
 * gray. The constant term (1 − f)·m is formed per image and spread over the image in one step.
 */
export function adjustContrast(images: tf.Tensor4D, factors: number | ArrayLike<number>): tf.Tensor4D {
  assertGrayOrRgb(images, 'contrast');
  const n = images.shape[0];
  const oneMinus = typeof factors === 'number' ? 1 - factors : Float32Array.from(factors, (x) => 1 - x);
  return tf.tidy(() => {
    const offset = spreadPerImage(tf.mul(tf.mean(toLuma(images), [1, 2, 3]), perImage(oneMinus, [n])), images.shape);
    return tf.clipByValue(tf.add(tf.mul(perImage(factors, images.shape), images), offset), 0, 1) as tf.Tensor4D;
  });
}

/** Saturation: blend with the image's own grayscale version, f = 0 gives gray; C = 1 unchanged. */
export function adjustSaturation(images: tf.Tensor4D, factors: number | ArrayLike<number>): tf.Tensor4D {
  if (assertGrayOrRgb(images, 'saturation') === 1) return images;
  return tf.tidy(() => blend(images, grayscale(images), factors));
}

/**
 * Hue: shift the hue by `shifts` of a full turn (in [−0.5, 0.5]; 1/3 takes red to green) through
 * RGB → HSV → RGB with tf ops (torchvision's method, not a YIQ rotation; see rgb-hsv.ts). Saturation
 * and value are kept; the result stays in [0,1]. C = 1 unchanged.
 */
export function adjustHue(images: tf.Tensor4D, shifts: number | ArrayLike<number>): tf.Tensor4D {
  if (assertGrayOrRgb(images, 'hue') === 1) return images;
  return tf.tidy(() => {
    const { hue6, chroma, value } = rgbToHcv(images);
    const sixths = typeof shifts === 'number' ? 6 * shifts : Float32Array.from(shifts, (x) => 6 * x);
    return hcvToRgb(tf.add(hue6, perImage(sixths, hue6.shape)) as tf.Tensor4D, chroma, value);
  });
}

export interface ColorJitterOptions {
  /** f ∈ [max(0, 1 − b), 1 + b]; 0 turns it off. */
  readonly brightness: number;
  /** f ∈ [max(0, 1 − c), 1 + c]; 0 turns it off. */
  readonly contrast: number;
  /** f ∈ [max(0, 1 − s), 1 + s]; 0 turns it off. */
  readonly saturation: number;
  /** shift ∈ [−h, h] of a turn, h ≤ 0.5; 0 turns it off. */
  readonly hue: number;
  /** Chance that an image is jittered at all (torchvision RandomApply; MoCo v1 1, v2 0.8). */
  readonly probability: number;
}

export type JitterKind = 'brightness' | 'contrast' | 'saturation' | 'hue';
export const JITTER_KINDS: readonly JitterKind[] = ['brightness', 'contrast', 'saturation', 'hue'];

const adjust: Record<JitterKind, (x: tf.Tensor4D, f: ArrayLike<number>) => tf.Tensor4D> = {
  brightness: adjustBrightness,
  contrast: adjustContrast,
  saturation: adjustSaturation,
  hue: adjustHue,
};

/**
 * torchvision `RandomApply([ColorJitter(b, c, s, h)], p)` on a batch. Each image is chosen with
 * probability p and gets its own four factors. torchvision draws a new order of the four adjustments
 * for every image; here one random order is drawn per call (per batch and view) and used for the
 * whole batch — the factors stay per image. Saturation and hue are skipped for one-channel batches.
 * Draws, in order: N coin flips, the permutation of 4, then N factors per adjustment in use.
 */
export function randomColorJitter(images: tf.Tensor4D, opts: ColorJitterOptions, random: Random): tf.Tensor4D {
  const channels = assertGrayOrRgb(images, 'color jitter');
  const n = images.shape[0];
  const mask = coinFlips(n, opts.probability, random);
  const order = random.permutation(4);
  const steps: { kind: JitterKind; factors: Float32Array }[] = [];
  for (const i of order) {
    const kind = JITTER_KINDS[i];
    const strength = opts[kind];
    if (strength <= 0 || (channels === 1 && (kind === 'saturation' || kind === 'hue'))) continue;
    const factors = kind === 'hue' ? uniform(n, -strength, strength, random) : uniform(n, Math.max(0, 1 - strength), 1 + strength, random);
    steps.push({ kind, factors });
  }
  if (steps.length === 0) return images;
  return applyToSome(images, mask, (x) => steps.reduce((y, { kind, factors }) => adjust[kind](y, factors), x));
}
