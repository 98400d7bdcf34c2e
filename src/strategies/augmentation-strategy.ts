import type * as tf from '@tensorflow/tfjs-core';
import type { StepContext } from './step-context.js';

/**
 * Turns a batch of images into two independently augmented views (the query's and the key's).
 * Runs on the backend, on the whole batch, inside the trainer's tidy; draws its randomness from
 * `ctx.random` so a seeded run repeats exactly.
 */
export interface AugmentationStrategy {
  readonly id: string;
  /** One short line for logs and reports, e.g. 'mocov2'. Default: the id. */
  describe?(): string;
  /** `images`: float32 [N,H,W,C] in [0,1]. Returns two views of the same shape (or a fixed crop size). */
  views(images: tf.Tensor4D, ctx: StepContext): [tf.Tensor4D, tf.Tensor4D];
}
