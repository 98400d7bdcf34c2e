import * as tf from '@tensorflow/tfjs-core';
import { permuteRows, Random, rewriteBatchNorm, type NormalizationStrategy, type StepContext } from '../../../src/index.js';

/**
 * Shuffling BN on one device (He et al. 2020, Sec. 3.3). The paper trains on G GPUs, each computing
 * BatchNorm over its own sub-batch, and shuffles the key batch across GPUs before the key encoder
 * (unshuffling after), so a query and its positive key never share batch statistics. Here both
 * encoders' BatchNorm layers compute statistics per group of consecutive samples
 * (GroupBatchNormalization), and the key view is permuted before the key encoder and restored after.
 */
export class ShuffleBatchNorm implements NormalizationStrategy {
  readonly id: string = 'shuffle-bn';

  constructor(
    readonly groups: number,
    private readonly shuffle = true,
  ) {}

  describe(): string {
    return `${this.id}, ${this.groups} groups`;
  }

  rewriteTopology(topology: unknown): unknown {
    rewriteBatchNorm(topology, { groups: this.groups, label: `normalization ${this.id}` });
    return topology;
  }

  encodeKeys(encode: (x: tf.Tensor4D) => tf.Tensor2D, view: tf.Tensor4D, ctx: StepContext): tf.Tensor2D {
    if (!this.shuffle) return encode(view);
    const n = view.shape[0];
    const perm = ctx.random.permutation(n);
    const inverse = Random.inverse(perm);
    return tf.tidy(() => permuteRows(encode(permuteRows(view, perm)), inverse));
  }
}
