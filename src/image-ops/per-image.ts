import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random/random.js';

/**
 * Per-image randomness for batched augmentation: a few numbers per image drawn on the host from the
 * run's seeded generator (so a seeded run repeats exactly), then uploaded. No device sync anywhere.
 *
 * Per-image values are expanded on the host to the full shape of the tensor they meet (filling a
 * typed array costs well under a millisecond) instead of being uploaded as [N,1,1,1] and broadcast:
 * tfjs-backend-cpu broadcasts any shape other than a trailing suffix through a generic per-element
 * index loop, about 5× slower than a same-shape op. On GPU backends both are cheap.
 */

/** N draws uniform in [lo, hi). */
export function uniform(n: number, lo: number, hi: number, random: Random): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * random.next();
  return out;
}

/** N independent coin flips: 1 with probability p (always draws N numbers, so the stream does not depend on p). */
export function coinFlips(n: number, p: number, random: Random): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = random.next() < p ? 1 : 0;
  return out;
}

/**
 * One value per image expanded to `shape` ([N, ...]): every element of image i's block is values[i];
 * a single number fills the whole tensor.
 */
export function perImage(values: number | ArrayLike<number>, shape: readonly number[]): tf.Tensor {
  if (typeof values === 'number') return tf.fill(shape as number[], values);
  return tf.tensor(expand(Float32Array, values, shape), shape as number[]);
}

/** A per-image bool mask expanded to `shape`, for tf.where. */
export function perImageMask(mask: ArrayLike<number>, shape: readonly number[]): tf.Tensor {
  return tf.tensor(expand(Uint8Array, mask, shape), shape as number[], 'bool');
}

function expand<A extends Float32Array | Uint8Array>(Ctor: new (n: number) => A, values: ArrayLike<number>, shape: readonly number[]): A {
  const n = shape[0];
  if (values.length !== n) throw new Error(`expected one value per image (${n}), got ${values.length}`);
  const block = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Ctor(n * block);
  for (let i = 0; i < n; i++) out.fill(values[i], i * block, (i + 1) * block);
  return out;
}

/**
 * A per-image value computed on the device ([N,1,1,1], e.g. a mean) spread over `shape` [N, ...]
 * as an [N,1] × [1, block] matMul with ones: exact (one product by 1 per element) and, on the cpu
 * backend, several times faster than broadcasting the [N,1,1,1] tensor.
 */
export function spreadPerImage(values: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const n = shape[0];
  const block = shape.slice(1).reduce((a, b) => a * b, 1);
  return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(values, [n, 1]), tf.ones([1, block])), shape as number[]));
}

/**
 * `op` applied to the images whose mask entry is 1; the others pass through unchanged. Nothing is
 * computed when no image is chosen, and no select when all are.
 */
export function applyToSome(images: tf.Tensor4D, mask: Uint8Array, op: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  const n = images.shape[0];
  if (mask.length !== n) throw new Error(`expected one mask entry per image (${n}), got ${mask.length}`);
  if (!mask.some((m) => m)) return images;
  return tf.tidy(() => {
    const changed = op(images);
    if (mask.every((m) => m)) return changed;
    return tf.where(perImageMask(mask, images.shape), changed, images) as tf.Tensor4D;
  });
}

/** Throws unless the batch has 1 (grayscale) or 3 (RGB) channels: the colour ops know no others. */
export function assertGrayOrRgb(images: tf.Tensor4D, what: string): 1 | 3 {
  const c = images.shape[3];
  if (c !== 1 && c !== 3) throw new Error(`${what}: expected images with 1 or 3 channels, got ${c}`);
  return c;
}
