import type * as tf from '@tensorflow/tfjs-core';

/** The loss's output for one (query, key) pairing. */
export interface LossOutput {
  /** Mean loss over the batch (scalar). */
  readonly loss: tf.Scalar;
  /** Pretext top-1 accuracy: the share of queries whose positive scores above every negative (scalar). */
  readonly accuracy: tf.Scalar;
}

/**
 * A contrastive loss over cosine similarities. The trainer gives it, per query, the similarity to
 * its positive key ([N,1]) and to its negatives ([N,K]); both are raw dot products of unit vectors,
 * so temperature and any other scaling belong to the loss. Runs inside the gradient scope. A loss over
 * both view orders declares `capabilities: { symmetric: true }` in its factory.
 */
export interface LossStrategy {
  readonly id: string;
  /** One short line for logs and reports, e.g. 'InfoNCE τ 0.1'. Default: the id. */
  describe?(): string;
  compute(positive: tf.Tensor2D, negatives: tf.Tensor2D): LossOutput;
}
