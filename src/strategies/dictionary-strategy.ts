import type * as tf from '@tensorflow/tfjs-core';
import type { SetupContext, StepContext, StrategyState } from './step-context.js';

/** What the dictionary sees after the optimizer step (outside the gradient scope; tensors are valid only during the call). */
export interface DictionaryUpdate {
  /** L2-normalised positive keys of the step, [N,d] (both views' keys, stacked, for a symmetric loss). */
  readonly keys: tf.Tensor2D;
  /** L2-normalised queries of the step, [N,d], aligned with `keys`. */
  readonly queries: tf.Tensor2D;
  /** Data-set index of each row, when the data carries indices. */
  readonly indices?: tf.Tensor1D;
}

/** Capacity K of a dictionary and how much of it holds real keys rather than initial noise. */
export interface DictionaryStats {
  readonly size: number;
  readonly filled: number;
}

/**
 * Where negatives (and optionally positives) come from, and how that store changes after each step:
 * a FIFO queue of past keys (MoCo), a memory bank with one slot per image (Wu et al. 2018), or the
 * other keys of the same batch (end-to-end). See the MoCo paper, Sec. 3.2 and Fig. 2.
 *
 * Only `id` and `negativeSimilarities` are required; what the dictionary needs from the trainer
 * (indices, supplying positives, in-batch negatives) is declared by its factory's `capabilities`.
 *
 * ```ts
 * class LastBatch implements DictionaryStrategy {
 *   readonly id = 'last-batch';
 *   private keys?: tf.Tensor2D;
 *   negativeSimilarities(q: tf.Tensor2D, k: tf.Tensor2D) { return tf.matMul(q, this.keys ?? k, false, true); }
 *   update({ keys }: DictionaryUpdate) { this.keys?.dispose(); this.keys = tf.keep(keys.clone()); }
 *   dispose() { this.keys?.dispose(); }
 * }
 * ```
 */
export interface DictionaryStrategy {
  readonly id: string;
  /** Allocate state. Called once before the first step (and before `loadState`). Default: nothing. */
  setup?(ctx: SetupContext): void;
  /** The stored positive of each image, [N,d]; required when the factory declares `providesPositives`. */
  positives?(indices: tf.Tensor1D, ctx: StepContext): tf.Tensor2D;
  /**
   * Similarities of each query to its negatives, [N,K]. Runs inside the gradient scope: for an in-batch
   * dictionary `keys` carry gradient; stored keys are constants. `indices` (the batch's data-set
   * indices, aligned with `queries`) are passed when the data carries them, e.g. so a dictionary can
   * leave out stored keys of the query's own image.
   */
  negativeSimilarities(queries: tf.Tensor2D, keys: tf.Tensor2D, ctx: StepContext, indices?: tf.Tensor1D): tf.Tensor2D;
  /** Take the step's keys (enqueue, bank update). Default: nothing is stored. */
  update?(update: DictionaryUpdate, ctx: StepContext): void;
  /** Capacity K and how much of it holds real keys. Default: K from the last `negativeSimilarities`, always full. */
  stats?(): DictionaryStats;
  /** One short line for logs and reports, e.g. 'queue K 4096'. Default: the id. */
  describe?(): string;
  /** Tensors and values to checkpoint. Default: none. */
  state?(): StrategyState;
  loadState?(state: StrategyState): void;
  /** Free the dictionary's tensors. Default: nothing to free. */
  dispose?(): void;
}
