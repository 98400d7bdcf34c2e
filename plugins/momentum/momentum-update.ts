import * as tf from '@tensorflow/tfjs-core';
import type { EncoderUpdateStrategy, StepContext, WeightPair } from '../../src/index.js';

/**
 * The momentum update θk ← m·θk + (1−m)·θq (He et al. 2020, Eq. 2), over every trainable weight.
 * m = 0.999 in the paper; m = 0 makes the key encoder a plain copy of the query encoder, which the
 * paper reports fails to train (Sec. 4.1, "Ablation: momentum"). BatchNorm moving statistics are not
 * trainable weights, so the key encoder keeps its own.
 */
export class MomentumUpdate implements EncoderUpdateStrategy {
  readonly keySource = 'key-encoder' as const;

  constructor(
    readonly id: string,
    readonly momentum: number,
  ) {}

  momentumAt(_ctx?: StepContext): number {
    return this.momentum;
  }

  update(pairs: readonly WeightPair[], ctx: StepContext): void {
    const m = this.momentumAt(ctx);
    tf.tidy(() => {
      if (m === 0) {
        for (const p of pairs) p.key.assign(tf.clone(p.query));
        return;
      }
      const keep = tf.scalar(m);
      const take = tf.scalar(1 - m);
      for (const p of pairs) p.key.assign(tf.add(tf.mul(p.key, keep), tf.mul(p.query, take)));
    });
  }
}
