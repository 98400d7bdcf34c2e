// Data order that a resumed run can reproduce. A tf.data shuffle (or imageSetToDataset's reshuffle per pass)
// derives each pass's order from how many passes were made before, which a fresh process does not know. The
// trainer tells an epoch-aware data set which epoch it is about to serve (`setEpoch`), so the order can be a
// function of (seed, epoch) alone, as PyTorch's DistributedSampler.set_epoch does.
import type * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import { imageSetToDataset, type ImageElement, type ImageSet } from '../data/image-set.js';
import { mixSeed } from '../data/seeded-random.js';
import type { EpochAwareDataset } from '../training/epoch-task.js';

class EpochDataset<T extends tf.TensorContainer> extends tfd.Dataset<T> implements EpochAwareDataset {
  override readonly size: number;
  private next: number | undefined;
  private auto = 0;

  constructor(
    private readonly make: (epoch: number) => tfd.Dataset<T>,
    size: number,
  ) {
    super();
    this.size = size;
  }

  setEpoch(epoch: number): void {
    this.next = epoch;
  }

  override iterator(): ReturnType<tfd.Dataset<T>['iterator']> {
    const epoch = this.next ?? this.auto;
    this.next = undefined;
    this.auto = epoch + 1;
    return this.make(epoch).iterator();
  }
}

/**
 * A data set whose content for epoch e is `make(e)`. The trainer calls `setEpoch` before every epoch; used
 * elsewhere, successive iterators count epochs 0, 1, 2, ... `size` is the number of elements of one epoch.
 */
export function epochDataset<T extends tf.TensorContainer>(make: (epoch: number) => tfd.Dataset<T>, size: number): tfd.Dataset<T> & EpochAwareDataset {
  return new EpochDataset(make, size);
}

export interface ResumableImageDatasetOptions {
  /** Seed of the per-epoch shuffles; default 0. */
  seed?: number;
  /** Default true. False: the set's own order every epoch. */
  shuffle?: boolean;
}

/**
 * An image set as `{xs, index}` elements (like imageSetToDataset) in an order fixed by (seed, epoch): epoch e
 * is the permutation seeded with mixSeed(seed, e), whichever process or resume serves it.
 */
export function resumableImageDataset(set: ImageSet, options: ResumableImageDatasetOptions = {}): tfd.Dataset<ImageElement> & EpochAwareDataset {
  const seed = options.seed ?? 0;
  const shuffle = options.shuffle ?? true;
  return epochDataset((epoch) => imageSetToDataset(set, { shuffle, seed: mixSeed(seed, epoch), reshuffleEachIteration: false }), set.count);
}
