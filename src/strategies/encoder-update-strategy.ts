import type * as tf from '@tensorflow/tfjs-core';
import type { StepContext, StrategyState } from './step-context.js';

/** A trainable weight of the query encoder and the key-encoder weight that follows it. */
export interface WeightPair {
  readonly query: tf.Variable;
  readonly key: tf.Variable;
}

/**
 * How the key encoder follows the query encoder (MoCo paper Sec. 3.2, "Momentum update"). Where the keys
 * come from is the factory's `capabilities.keySource`:
 * - 'key-encoder' (default): keys come from a separate encoder, outside the gradient scope, which `apply`
 *   moves after every optimizer step (momentum EMA; m = 0 is a plain copy). The key encoder starts as an
 *   exact copy and is non-trainable; its BatchNorm moving statistics are its own.
 * - 'query-encoder': keys come from the query encoder itself, with gradient (end-to-end); `apply` is never
 *   called.
 *
 * ```ts
 * const halfway: EncoderUpdateStrategy = {
 *   id: 'halfway',
 *   apply: (pairs) => pairs.forEach((p) => p.key.assign(tf.add(tf.mul(p.key, 0.5), tf.mul(p.query, 0.5)))),
 * };
 * ```
 */
export interface EncoderUpdateStrategy {
  readonly id: string;
  /** One short line for logs and reports, e.g. 'momentum m 0.99'. Default: the id. */
  describe?(): string;
  /**
   * Move the key encoder's weights after the optimizer step. Runs inside the trainer's tidy; write with
   * `key.assign(...)`. Required for keySource 'key-encoder'.
   */
  apply?(pairs: readonly WeightPair[], ctx: StepContext): void;
  /** The key encoder's momentum in force at this point of the run (reported in step events), if the rule has one. */
  momentumAt?(ctx: StepContext): number;
  state?(): StrategyState;
  loadState?(state: StrategyState): void;
}
