import * as tf from '@tensorflow/tfjs-core';
import type { LossOutput, LossStrategy } from '../../../src/index.js';

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

  describe(): string {
    return `InfoNCE τ ${this.temperature}${this.symmetric ? ', symmetric' : ''}`;
  }

  compute(positive: tf.Tensor2D, negatives: tf.Tensor2D): LossOutput {
    return tf.tidy(() => {
      const loss = infoNce(positive, negatives, this.temperature);
      // Top-1 of the pretext task: the positive scores strictly above every negative.
      const accuracy = tf.mean(tf.cast(tf.greater(tf.squeeze(positive, [1]), tf.max(negatives, 1)), 'float32')) as tf.Scalar;
      return { loss, accuracy };
    });
  }
}

/**
 * mean over queries of −log softmax([s+, s_1 … s_K]/τ)[0] = logsumexp(z) − z₀, with its gradient written
 * out: ∂z = (softmax(z) − e₀)/N. Autodiff of the same expression (concat, then tf.logSumExp) also
 * differentiates the max that logSumExp subtracts for stability (a mask by Equal over the whole N×(K+1)
 * logits) and tiles the upstream gradient to that shape; this node instead keeps the exponentials of the
 * forward pass and needs one multiply per logit. The logits are never concatenated: the positive column
 * and the K negatives are handled apart.
 */
function infoNce(positive: tf.Tensor2D, negatives: tf.Tensor2D, temperature: number): tf.Scalar {
  const n = positive.shape[0];
  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [pos, neg, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    // Shift by the row maximum so that no exponential overflows; the shift cancels in the loss.
    const shift = tf.maximum(pos, tf.max(neg, 1, true));
    const expPos = tf.exp(tf.div(tf.sub(pos, shift), temperature));
    const expNeg = tf.exp(tf.div(tf.sub(neg, shift), temperature));
    const total = tf.add(expPos, tf.sum(expNeg, 1, true));
    save([expPos, expNeg, total]);
    const perQuery = tf.add(tf.div(tf.sub(shift, pos), temperature), tf.log(total));
    return {
      value: tf.mean(perQuery) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [eP, eN, tot] = saved;
        const g = tf.div(dy, n * temperature); // ∂loss/∂z per logit is (p − e₀)/N; z = s/τ
        const perRow = tf.div(g, tot);
        return [tf.sub(tf.mul(eP, perRow), g), tf.mul(eN, perRow)];
      },
    };
  });
  return node(positive, negatives) as tf.Scalar;
}
