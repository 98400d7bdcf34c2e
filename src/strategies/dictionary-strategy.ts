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

/**
 * Where negatives (and optionally positives) come from, and how that store changes after each step:
 * a FIFO queue of past keys (MoCo), a memory bank with one slot per image (Wu et al. 2018), or the
 * other keys of the same batch (end-to-end). See the MoCo paper, Sec. 3.2 and Fig. 2.
 */
export interface DictionaryStrategy {
  readonly id: string;
  /** True when the dictionary needs each image's data-set index (a memory bank does). */
  readonly requiresIndices: boolean;
  /**
   * True when the dictionary supplies the positive key itself (`positives`), so no key encoder runs
   * (the memory bank mechanism).
   */
  readonly providesPositives: boolean;
  /**
   * True when the negatives are the other keys of the same batch (end-to-end), so that splitting a batch
   * into micro-batches would shrink K; the trainer then refuses `microBatch`.
   */
  readonly negativesFromBatch?: boolean;
  /** Allocate state. Called once before the first step (and before `loadState`). */
  setup(ctx: SetupContext): void;
  /** The stored positive of each image, [N,d]; only when `providesPositives`. */
  positives?(indices: tf.Tensor1D, ctx: StepContext): tf.Tensor2D;
  /**
   * Similarities of each query to its negatives, [N,K]. Runs inside the gradient scope: for an in-batch
   * dictionary `keys` carry gradient; stored keys are constants. `indices` (the batch's data-set
   * indices, aligned with `queries`) are passed when the data carries them, e.g. so a dictionary can
   * leave out stored keys of the query's own image.
   */
  negativeSimilarities(queries: tf.Tensor2D, keys: tf.Tensor2D, ctx: StepContext, indices?: tf.Tensor1D): tf.Tensor2D;
  /** Take the step's keys (enqueue, bank update, or nothing). */
  update(update: DictionaryUpdate, ctx: StepContext): void;
  /** Capacity K and how much of it holds real keys rather than initial noise. */
  stats(): { readonly size: number; readonly filled: number };
  state(): StrategyState;
  loadState(state: StrategyState): void;
  dispose(): void;
}
