import * as tf from '@tensorflow/tfjs-core';
import type { LossOutput, LossStrategy } from '../../../src/index.js';

/**
 * How the NCE noise term K·Pn·Z is obtained.
 * - 'first-step': estimated once, on the first batch, then fixed (Wu et al. 2018, Sec. 3.2).
 * - 'per-step': re-estimated on every batch, as a constant (no gradient flows through it).
 * - 'none': K·Pn·Z = 1, i.e. plain logistic loss on s/τ, positive vs each negative (the
 *   negative-sampling objective of word2vec, Mikolov et al. 2013).
 */
export type NceNormalizer = 'first-step' | 'per-step' | 'none';

/** Identity forward, zero gradient: tfjs has no stop_gradient. */
const stopGradient = tf.customGrad((...inputs) => ({ value: tf.clone(inputs[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as (x: tf.Tensor) => tf.Tensor;

/**
 * Binary NCE as InstDisc uses it (Wu et al. 2018, Sec. 3.2), the loss of the memory-bank
 * baseline the MoCo paper starts from (He et al. 2020, Sec. 3.1 and 3.2). Each similarity is scored as
 * a two-class problem, "data" (the positive) vs "noise" (the K negatives, drawn from a uniform noise
 * distribution Pn = 1/n):
 *
 *   h(s) = exp(s/τ) / (exp(s/τ) + K·Pn·Z) = σ(s/τ − log(K·Pn·Z))
 *   loss = −log h(s⁺) − Σ_k log(1 − h(s_k)), averaged over the batch.
 *
 * Z is estimated by Monte Carlo over the negatives, Z ≈ n·mean_k exp(s_k/τ) (as Wu et al. do), so
 * K·Pn·Z = K·mean exp(s_k/τ): the data-set size n cancels and the loss needs no more than the
 * similarities. Computed in log space with softplus (−log σ(x) = softplus(−x)), so τ = 0.07 cannot
 * overflow. Pretext accuracy as InfoNCE reports it: the positive scores above every negative.
 *
 * With 'first-step' the estimate belongs to the run and is not part of a checkpoint (a loss has no
 * state in this library): a resumed run estimates it again on its first batch.
 */
export class NceLoss implements LossStrategy {
  readonly id = 'nce';
  private fixedLogScale: number | undefined;

  constructor(
    readonly temperature: number,
    readonly normalizer: NceNormalizer,
    readonly symmetric: boolean,
  ) {}

  describe(): string {
    return `NCE τ ${this.temperature}, normalizer ${this.normalizer}${this.symmetric ? ', symmetric' : ''}`;
  }

  /** log(K·Pn·Z) fixed by the first batch (normalizer 'first-step'), once known. */
  get noiseLogScale(): number | undefined {
    return this.fixedLogScale;
  }

  /** log(K·mean exp(s_k/τ)) over every query's negatives: log K + logsumexp − log(N·K). */
  private estimateLogScale(logits: tf.Tensor2D): tf.Scalar {
    const [n, k] = logits.shape;
    return tf.add(tf.logSumExp(tf.reshape(logits, [n * k])), Math.log(k) - Math.log(n * k)) as tf.Scalar;
  }

  compute(positive: tf.Tensor2D, negatives: tf.Tensor2D): LossOutput {
    return tf.tidy(() => {
      const k = negatives.shape[1];
      const pos = tf.squeeze(tf.div(positive, this.temperature), [1]);
      const accuracy = tf.mean(tf.cast(tf.greater(tf.squeeze(positive, [1]), tf.max(negatives, 1)), 'float32')) as tf.Scalar;
      if (k === 0) {
        // No noise samples (a one-image in-batch batch): nothing to discriminate, a zero loss still tied to the graph.
        return { loss: tf.mul(tf.sum(pos), 0) as tf.Scalar, accuracy };
      }
      const neg = tf.div(negatives, this.temperature) as tf.Tensor2D;
      let logScale: tf.Tensor;
      if (this.normalizer === 'none') logScale = tf.scalar(0);
      else if (this.normalizer === 'per-step') logScale = stopGradient(this.estimateLogScale(neg));
      else {
        // One host read, on the first batch only; afterwards a constant.
        this.fixedLogScale ??= this.estimateLogScale(neg).dataSync()[0];
        logScale = tf.scalar(this.fixedLogScale);
      }
      // −log h(s⁺) = softplus(log c − s⁺/τ);  −log(1 − h(s_k)) = softplus(s_k/τ − log c).
      const positiveTerm = tf.softplus(tf.sub(logScale, pos));
      const noiseTerm = tf.sum(tf.softplus(tf.sub(neg, logScale)), 1);
      const loss = tf.mean(tf.add(positiveTerm, noiseTerm)) as tf.Scalar;
      return { loss, accuracy };
    });
  }
}
