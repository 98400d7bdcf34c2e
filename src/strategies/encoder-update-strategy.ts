import type * as tf from '@tensorflow/tfjs-core';
import type { StepContext, StrategyState } from './step-context.js';

/** A trainable weight of the query encoder and the key-encoder weight that follows it. */
export interface WeightPair {
  readonly query: tf.Variable;
  readonly key: tf.Variable;
}

/**
 * How the key encoder follows the query encoder (MoCo paper Sec. 3.2, "Momentum update").
 * - keySource 'key-encoder': keys come from a separate encoder, outside the gradient scope, which
 *   `update` moves after every optimizer step (momentum EMA; m = 0 is a plain copy). The key encoder
 *   starts as an exact copy and is non-trainable; its BatchNorm moving statistics are its own.
 * - keySource 'query-encoder': keys come from the query encoder itself, with gradient (end-to-end);
 *   `update` is never called.
 */
export interface EncoderUpdateStrategy {
  readonly id: string;
  readonly keySource: 'key-encoder' | 'query-encoder';
  /**
   * Move the key encoder's weights after the optimizer step. Runs inside the trainer's tidy; write
   * with `key.assign(...)`.
   */
  update(pairs: readonly WeightPair[], ctx: StepContext): void;
  /** The momentum in force at this point of the run (reported in step events), if the rule has one. */
  momentumAt?(ctx: StepContext): number;
  state?(): StrategyState;
  loadState?(state: StrategyState): void;
}
