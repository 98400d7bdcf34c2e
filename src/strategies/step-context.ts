import type * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random/random.js';

/** Where the run is, as every strategy sees it during a step. */
export interface StepContext {
  /** 0-based epoch. */
  readonly epoch: number;
  /** 0-based global step (optimizer updates so far). */
  readonly step: number;
  /**
   * Fraction of training done, in [0, 1]: step / total steps when the run's length is known, else epoch / epochs
   * (whole epochs done, so it moves once per epoch).
   */
  readonly progress: number;
  /**
   * The step's seeded random stream; strategies draw their per-step randomness from it (augmentation,
   * Shuffle BN's permutation, sampled negatives) so a run repeats exactly.
   */
  readonly random: Random;
}

/** What a strategy learns once, before the first step, to allocate its state. */
export interface SetupContext {
  /** Dimension d of the L2-normalised embeddings (the head's output). */
  readonly dim: number;
  /** Images per batch (the last batch of an epoch may be shorter). */
  readonly batchSize: number;
  /** Images in the data set when known (`dataset.size`), else undefined. */
  readonly datasetSize?: number;
  /** Total optimizer steps of the run when known. */
  readonly totalSteps?: number;
}

/** Tensors that a strategy keeps across steps, saved and restored with a checkpoint. */
export type StrategyState = { tensors: Record<string, tf.Tensor>; values: Record<string, number | string | boolean | number[]> };
