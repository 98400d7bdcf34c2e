import * as tf from '@tensorflow/tfjs-core';
import type { LossOutput, LossStrategy } from '../../src/index.js';

/**
 * InfoNCE (van den Oord et al. 2018), as MoCo uses it (He et al. 2020, Eq. 1): a (K+1)-way softmax
 * cross-entropy over [q·k+, q·k_1 … q·k_K] / τ with the positive in column 0.
 */
export class InfoNceLoss implements LossStrategy {
  readonly id = 'infonce';

  constructor(
    readonly temperature: number,
    readonly symmetric: boolean,
  ) {}

  compute(positive: tf.Tensor2D, negatives: tf.Tensor2D): LossOutput {
    return tf.tidy(() => {
      const logits = tf.div(tf.concat([positive, negatives], 1), this.temperature);
      // −log softmax(logits)[0] = logsumexp(logits) − logits[0]; logSumExp is computed stably.
      const perQuery = tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.div(positive, this.temperature), [1]));
      const loss = tf.mean(perQuery) as tf.Scalar;
      // Top-1 of the pretext task: the positive scores strictly above every negative.
      const accuracy = tf.mean(tf.cast(tf.greater(tf.squeeze(positive, [1]), tf.max(negatives, 1)), 'float32')) as tf.Scalar;
      return { loss, accuracy };
    });
  }
}
