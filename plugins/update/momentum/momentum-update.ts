import * as tf from '@tensorflow/tfjs-core';
import { emaUpdate, type EncoderUpdateStrategy, type StepContext, type WeightPair } from '../../../src/index.js';

/** How m moves over training: fixed, or cosine from m0 to 1. */
export type MomentumSchedule = 'constant' | 'cosine';

/**
 * The momentum update θk ← m·θk + (1−m)·θq (He et al. 2020, Eq. 2), over every trainable weight.
 * m = 0.999 in the paper; m = 0 makes the key encoder a plain copy of the query encoder, which the
 * paper reports fails to train (Sec. 4.1, "Ablation: momentum"). BatchNorm moving statistics are not
 * trainable weights, so the key encoder keeps its own.
 *
 * Schedule 'cosine' raises m from m0 to 1 over training, m = 1 − (1 − m0)·(cos(π·progress) + 1)/2,
 * as BYOL (Grill et al. 2020) and MoCo v3 (Chen et al. 2021, `--moco-m-cos`) do: the key
 * encoder follows fast early on and freezes towards the end.
 */
export class MomentumUpdate implements EncoderUpdateStrategy {
  constructor(
    readonly id: string,
    /** m of the key encoder, or m0 of the cosine schedule. */
    readonly keyEncoderMomentum: number,
    readonly schedule: MomentumSchedule = 'constant',
  ) {}

  describe(): string {
    if (this.id === 'copy') return 'copy (m 0)';
    return `momentum m ${this.keyEncoderMomentum}${this.schedule === 'cosine' ? ', cosine to 1' : ''}`;
  }

  /** m at `ctx.progress` (m0 without a context). */
  momentumAt(ctx?: StepContext): number {
    if (this.schedule === 'constant' || !ctx) return this.keyEncoderMomentum;
    const p = Math.min(1, Math.max(0, ctx.progress));
    return 1 - (1 - this.keyEncoderMomentum) * ((Math.cos(Math.PI * p) + 1) / 2);
  }

  apply(pairs: readonly WeightPair[], ctx: StepContext): void {
    const m = this.momentumAt(ctx);
    tf.tidy(() => {
      // m = 1 (the end of a cosine schedule) leaves the key encoder as it is.
      if (m === 1) return;
      if (m === 0) {
        for (const p of pairs) p.key.assign(tf.clone(p.query));
        return;
      }
      // One kernel call for all weights on wasm and cpu (src/kernels/fused-ema.ts).
      emaUpdate(pairs, m);
    });
  }
}
