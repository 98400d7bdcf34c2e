import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import { createImageSet, type ImageSet } from './create-image-set.js';
import { mixSeed, randomSeed, shuffledIndices, shuffleInPlace } from './seeded-random.js';

// Re-exported so that the whole ImageSet contract is importable from this file.
export { createImageSet, type ImageSet };

/** One unbatched element: an HWC float32 image in [0,1] and its position in the set (int32 scalar). */
export type ImageElement = { xs: tf.Tensor3D; index: tf.Scalar };

/** One batch: NHWC float32 images in [0,1] and their positions in the set (int32, length N). */
export type ImageBatch = { xs: tf.Tensor4D; index: tf.Tensor1D };

export interface ImageDatasetOptions {
  /** Visit the images in a random order (default false: 0, 1, 2, ...). */
  shuffle?: boolean;
  /** Seed for the shuffle; the same seed gives the same sequence of orders. Default: a random seed. */
  seed?: number;
  /**
   * With shuffle, a new order for every pass over the dataset (epoch e uses a seed derived from (seed, e)), as
   * tf.data's own shuffle does. Default true. False repeats the first order on every pass.
   */
  reshuffleEachIteration?: boolean;
}

// uint8 -> float32 through a table: exactly v/255 as float32, the same values tf.div(x, 255) would give.
const BYTE_TO_UNIT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** Pixels of the listed images as float32 in [0,1], concatenated. */
function pixelsAsUnitFloats(set: ImageSet, indices: ArrayLike<number>): Float32Array {
  const size = set.height * set.width * set.channels;
  const out = new Float32Array(indices.length * size);
  const src = set.images;
  for (let k = 0; k < indices.length; k++) {
    const from = indices[k] * size;
    const to = k * size;
    for (let p = 0; p < size; p++) out[to + p] = BYTE_TO_UNIT[src[from + p]];
  }
  return out;
}

function checkIndex(set: ImageSet, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= set.count) {
    throw new RangeError(`image set ${set.name}: index ${i} is outside 0..${set.count - 1}`);
  }
}

/** The images at the given positions as one NHWC float32 tensor in [0,1]. */
export function imageSetGather(set: ImageSet, indices: ArrayLike<number>): tf.Tensor4D {
  for (let k = 0; k < indices.length; k++) checkIndex(set, indices[k]);
  return tf.tensor4d(pixelsAsUnitFloats(set, indices), [indices.length, set.height, set.width, set.channels], 'float32');
}

/**
 * Images start..start+count-1 as one NHWC float32 tensor in [0,1]. The last batch of a pass may be shorter:
 * count is clipped to the images that remain. A start outside the set or a count below 1 is a RangeError.
 */
export function imageSetBatch(set: ImageSet, start: number, count: number): tf.Tensor4D {
  checkIndex(set, start);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`image set ${set.name}: batch count must be a positive integer, got ${count}`);
  const n = Math.min(count, set.count - start);
  const size = set.height * set.width * set.channels;
  const src = set.images.subarray(start * size, (start + n) * size);
  const out = new Float32Array(src.length);
  for (let p = 0; p < src.length; p++) out[p] = BYTE_TO_UNIT[src[p]];
  return tf.tensor4d(out, [n, set.height, set.width, set.channels], 'float32');
}

/**
 * A tf.data Dataset whose size is known up front (tfd.generator leaves it null), so that batch() and
 * fitDataset can count batches.
 */
class SizedDataset<T extends tf.TensorContainer> extends tfd.Dataset<T> {
  override readonly size: number;
  constructor(
    private readonly inner: tfd.Dataset<T>,
    size: number,
  ) {
    super();
    this.size = size;
  }
  override iterator(): ReturnType<tfd.Dataset<T>['iterator']> {
    return this.inner.iterator();
  }
}

/** The order of one pass: identity, or a seeded permutation that changes per pass if asked. */
function passOrders(count: number, opts: ImageDatasetOptions): () => Int32Array | null {
  if (!opts.shuffle) return () => null;
  const seed = opts.seed ?? randomSeed();
  const reshuffle = opts.reshuffleEachIteration ?? true;
  let pass = 0;
  return () => shuffledIndices(count, mixSeed(seed, reshuffle ? pass++ : 0));
}

/**
 * The set as a tf.data Dataset of unbatched elements `{ xs: [h,w,c] float32 in [0,1], index: int32 scalar }`,
 * index being the image's position in the set (memory-bank strategies look entries up by it). Each element's
 * tensors belong to the consumer, as everywhere in tf.data: dispose them (or let batch()/map() do it).
 *
 * For large batches `imageSetBatchDataset` is faster: it builds each batch as one tensor instead of stacking.
 */
export function imageSetToDataset(set: ImageSet, opts: ImageDatasetOptions = {}): tfd.Dataset<ImageElement> {
  const nextOrder = passOrders(set.count, opts);
  const shape: [number, number, number] = [set.height, set.width, set.channels];
  const inner = tfd.generator<ImageElement>(function* () {
    const order = nextOrder();
    for (let i = 0; i < set.count; i++) {
      const index = order === null ? i : order[i];
      yield { xs: tf.tensor3d(pixelsAsUnitFloats(set, [index]), shape, 'float32'), index: tf.scalar(index, 'int32') };
    }
  });
  return new SizedDataset(inner, set.count);
}

export interface ImageBatchDatasetOptions extends ImageDatasetOptions {
  /** Drop the last batch if it is shorter than batchSize (default false). */
  dropRemainder?: boolean;
}

/**
 * The set as a Dataset of ready-made batches `{ xs: [n,h,w,c] float32 in [0,1], index: int32 [n] }`, with the
 * same order semantics as imageSetToDataset. One tensor per batch instead of batchSize tensors and a stack: the
 * input pipeline of a CPU training loop should cost next to nothing.
 */
export function imageSetBatchDataset(
  set: ImageSet,
  batchSize: number,
  opts: ImageBatchDatasetOptions = {},
): tfd.Dataset<ImageBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const nextOrder = passOrders(set.count, opts);
  const batches = opts.dropRemainder ? Math.floor(set.count / batchSize) : Math.ceil(set.count / batchSize);
  const inner = tfd.generator<ImageBatch>(function* () {
    const order = nextOrder();
    for (let b = 0; b < batches; b++) {
      const start = b * batchSize;
      const end = Math.min(start + batchSize, set.count);
      let idx: Int32Array;
      if (order === null) {
        idx = new Int32Array(end - start);
        for (let i = 0; i < idx.length; i++) idx[i] = start + i;
      } else {
        idx = order.slice(start, end);
      }
      const xs = tf.tensor4d(pixelsAsUnitFloats(set, idx), [idx.length, set.height, set.width, set.channels], 'float32');
      yield { xs, index: tf.tensor1d(idx, 'int32') };
    }
  });
  return new SizedDataset(inner, batches);
}

/** A new set holding copies of the listed images (and labels), in the order given. Indices may repeat. */
export function subsetImageSet(set: ImageSet, indices: ArrayLike<number>, name?: string): ImageSet {
  const size = set.height * set.width * set.channels;
  const images = new Uint8Array(indices.length * size);
  const labels = set.labels ? new Int32Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    checkIndex(set, i);
    images.set(set.images.subarray(i * size, (i + 1) * size), k * size);
    if (labels) labels[k] = set.labels![i];
  }
  return createImageSet({
    name: name ?? `${set.name}[${indices.length} of ${set.count}]`,
    images,
    count: indices.length,
    height: set.height,
    width: set.width,
    channels: set.channels,
    labels,
    classNames: set.classNames,
  });
}

/**
 * A small labelled subset with up to `perClass` images of every class (all of a class that has fewer), for a
 * quick evaluation. Which images is fixed by `seed` (default 0, so quick evals are comparable between runs); they
 * keep their original relative order. Needs labels.
 */
export function stratifiedSubset(set: ImageSet, perClass: number, seed = 0): ImageSet {
  if (!set.labels) throw new RangeError(`image set ${set.name}: stratifiedSubset needs labels, and this set has none`);
  if (!Number.isInteger(perClass) || perClass < 0) throw new RangeError(`perClass must be a non-negative integer, got ${perClass}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < set.count; i++) {
    const c = set.labels[i];
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const chosen: number[] = [];
  // Classes in ascending order and a per-class seed, so a class's pick does not depend on the other classes.
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(c)!;
    shuffleInPlace(list, mixSeed(seed, c));
    for (let k = 0; k < Math.min(perClass, list.length); k++) chosen.push(list[k]);
  }
  chosen.sort((a, b) => a - b);
  return subsetImageSet(set, chosen, `${set.name}[${perClass} per class, seed ${seed}]`);
}
