import type * as tf from '@tensorflow/tfjs-core';
import { rewriteBatchNorm, type NormalizationStrategy } from '../../../src/index.js';

/** How the encoders' BatchNorm computes its training gradient. */
export type BatchNormGradient = 'hand-written' | 'autodiff';

/**
 * BatchNorm as the model has it: statistics over the whole batch, the key batch in query order. This
 * is the baseline the paper warns about (Sec. 3.3): a query and its positive key share batch
 * statistics, a signal the model can exploit to find the positive without learning a representation.
 *
 * With gradient 'hand-written' (the default) the training copies of the encoders use
 * GroupBatchNormalization with one group: the same arithmetic and the same weights as the stock layer,
 * with a one-node backward that runs 1.5–2× faster steps on wasm. The exported encoder keeps the user's
 * own BatchNormalization layers. Layers the group layer cannot stand in for stay stock.
 */
export class PlainBatchNorm implements NormalizationStrategy {
  readonly id = 'batchnorm';

  constructor(readonly gradient: BatchNormGradient = 'hand-written') {}

  rewriteTopology(topology: unknown): unknown {
    if (this.gradient === 'hand-written') rewriteBatchNorm(topology, { groups: 1, unsupported: 'keep', label: `normalization ${this.id}` });
    return topology;
  }

  encodeKeys(encode: (x: tf.Tensor4D) => tf.Tensor2D, view: tf.Tensor4D): tf.Tensor2D {
    return encode(view);
  }
}
