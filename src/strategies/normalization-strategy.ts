import type * as tf from '@tensorflow/tfjs-core';
import type { StepContext } from './step-context.js';

/** What a normalization variant may inspect to refuse a model at config load. */
export interface ModelFacts {
  /** Layer class names in the model, e.g. ['Conv2D', 'BatchNormalization', ...]. */
  readonly layerClasses: readonly string[];
}

/**
 * How BatchNorm sees the batch (MoCo paper Sec. 3.3, "Shuffling BN"). The variant may rewrite the
 * encoders' BatchNorm layers (e.g. per-group statistics) and may reorder the key batch around the
 * key encoder. Whether it shuffles keys or needs BatchNorm layers is declared by its factory's
 * `capabilities` (`shufflesKeys`: with data-parallel workers the trainer then shuffles across the whole
 * batch itself, before it is split into the workers' shares: the paper's shuffle across GPUs).
 */
export interface NormalizationStrategy {
  readonly id: string;
  /** One short line for logs and reports, e.g. 'shuffle-bn, 8 groups'. Default: the id. */
  describe?(): string;
  /** A reason the model cannot be used with this variant, or undefined. */
  checkModel?(facts: ModelFacts): string | undefined;
  /**
   * The topology the trainer should build for an encoder, given the model's serialized config
   * (`model.toJSON(null, false)`); return it unchanged when the variant keeps the layers. Weights are
   * copied by layer name afterwards, so a rewritten layer must keep its weights' order and shapes.
   */
  rewriteTopology?(topology: unknown, role: 'query' | 'key'): unknown;
  /** Run the key encoder on the key view; Shuffle BN permutes the batch and restores the order. */
  encodeKeys(encode: (x: tf.Tensor4D) => tf.Tensor2D, view: tf.Tensor4D, ctx: StepContext): tf.Tensor2D;
}
