import type * as tf from '@tensorflow/tfjs-core';
import type { NormalizationStrategy } from '../../src/index.js';

/**
 * BatchNorm as the model has it: statistics over the whole batch, the key batch in query order. This
 * is the baseline the paper warns about (Sec. 3.3): a query and its positive key share batch
 * statistics, a signal the model can exploit to find the positive without learning a representation.
 */
export class PlainBatchNorm implements NormalizationStrategy {
  readonly id = 'batchnorm';

  encodeKeys(encode: (x: tf.Tensor4D) => tf.Tensor2D, view: tf.Tensor4D): tf.Tensor2D {
    return encode(view);
  }
}
