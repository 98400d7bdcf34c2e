// A third-party loss, written against the public API only (outside this repository you would import
// from 'tfjs-moco' instead of '../../src/index.js').
import * as tf from '@tensorflow/tfjs-core';
import type { LossOutput, LossStrategy } from '../../src/index.js';

/**
 * Debiased contrastive loss (Chuang et al., "Debiased Contrastive Learning", NeurIPS 2020). Some of
 * the "negatives" of instance discrimination show the query's own class (probability τ⁺, the class
 * prior); DCL subtracts their expected share from the negative term:
 *
 *   Ng   = max( (Σ_k e^(s_k/t) − τ⁺·K·e^(s⁺/t)) / (1 − τ⁺),  K·e^(−1/t) )
 *   loss = −log( e^(s⁺/t) / (e^(s⁺/t) + Ng) ), averaged over the batch.
 *
 * τ⁺ = 0 gives InfoNCE back (the clamp is then inactive, as Σ_k e^(s_k/t) ≥ K·e^(−1/t)). Every
 * exponent is shifted by −1/t (similarities are cosines, ≤ 1), so nothing overflows; the clamp's
 * e^(−2/t) stays a normal float32 for t ≥ 0.03.
 */
export class DebiasedContrastiveLoss implements LossStrategy {
  readonly id = 'debiased';

  constructor(
    readonly temperature: number,
    /** τ⁺, the probability that a negative shows the query's class. */
    readonly tauPlus: number,
    readonly symmetric: boolean,
  ) {}

  compute(positive: tf.Tensor2D, negatives: tf.Tensor2D): LossOutput {
    return tf.tidy(() => {
      const t = this.temperature;
      const k = negatives.shape[1];
      const shift = 1 / t;
      const posLogit = tf.sub(tf.div(tf.squeeze(positive, [1]), t), shift); // s⁺/t − 1/t ≤ 0
      const pos = tf.exp(posLogit);
      const negSum = tf.sum(tf.exp(tf.sub(tf.div(negatives, t), shift)), 1);
      const debiased = tf.div(tf.sub(negSum, tf.mul(pos, this.tauPlus * k)), 1 - this.tauPlus);
      const ng = tf.maximum(debiased, k * Math.exp(-2 / t)); // K·e^(−1/t), shifted
      const loss = tf.mean(tf.sub(tf.log(tf.add(pos, ng)), posLogit)) as tf.Scalar;
      // Pretext accuracy as the built-in losses report it: the positive scores above every negative.
      const accuracy = tf.mean(tf.cast(tf.greater(tf.squeeze(positive, [1]), tf.max(negatives, 1)), 'float32')) as tf.Scalar;
      return { loss, accuracy };
    });
  }
}
