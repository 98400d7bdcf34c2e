import * as tf from '@tensorflow/tfjs-core';
import { WarningSink, inject, injectable, type DictionaryStrategy, type SetupContext } from '../../../src/index.js';

/**
 * Row i of a square matrix without its diagonal entry: [N,N] → [N,N−1], entry (i, c) = m[i, c < i ? c : c+1].
 * Reshapes and slices only (so the gradient is a plain scatter back): dropping the first element of the
 * flattened matrix leaves (N−1)(N+1) values whose rows of N+1 each end in a diagonal entry.
 */
export function dropDiagonal(m: tf.Tensor2D): tf.Tensor2D {
  const n = m.shape[0];
  if (m.shape[1] !== n) throw new Error(`dropDiagonal: expected a square matrix, got ${JSON.stringify(m.shape)}`);
  return tf.tidy(() => {
    const rest = tf.slice(tf.reshape(m, [n * n]), [1], [n * n - 1]);
    const rows = tf.slice(tf.reshape(rest, [n - 1, n + 1]), [0, 0], [n - 1, n]);
    return tf.reshape(rows, [n, n - 1]);
  });
}

/**
 * The end-to-end mechanism's dictionary (He et al. 2020, Sec. 3.2 and Fig. 2a): the negatives of
 * query i are the keys j ≠ i of the same batch, so K = N − 1 and the dictionary is as large as the
 * batch. Nothing is stored. With update rule 'shared' the keys come from the query encoder and carry
 * gradient (the paper's end-to-end); with a momentum key encoder they are constants and this is
 * MoCo v3's contrastive loss (Chen, Xie & He 2021, Alg. 1, minus the predictor).
 */
@injectable()
export class InBatchDictionary implements DictionaryStrategy {
  readonly id = 'in-batch';
  private batchSize = 0;

  constructor(@inject(WarningSink) private readonly warnings: WarningSink) {}

  describe(): string {
    return 'in-batch, K = batch − 1';
  }

  setup(ctx: SetupContext): void {
    this.batchSize = ctx.batchSize;
    if (ctx.datasetSize !== undefined && ctx.datasetSize % ctx.batchSize === 1) {
      this.warnings.warn(
        `dictionary 'in-batch': ${ctx.datasetSize} images in batches of ${ctx.batchSize} leave a last batch of one image, which has no in-batch negatives (its loss is 0 and it teaches nothing); choose a batchSize that leaves at least 2, or set stepsPerEpoch.`,
      );
    }
  }

  negativeSimilarities(queries: tf.Tensor2D, keys: tf.Tensor2D): tf.Tensor2D {
    // s_ij = q_i · k_j for all pairs; the diagonal holds the positives, which the trainer scores itself.
    return tf.tidy(() => dropDiagonal(tf.matMul(queries, keys, false, true)));
  }

  // No `update`: nothing is stored, the next batch brings its own negatives.

  /** K = batch − 1, always "full". */
  stats() {
    const k = Math.max(0, this.batchSize - 1);
    return { size: k, filled: k };
  }
}
