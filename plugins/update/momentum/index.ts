import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { MomentumUpdate, type MomentumSchedule } from './momentum-update.js';

export { MomentumUpdate, type MomentumSchedule };

export const momentumStrategy = defineStrategy({
  family: 'update',
  id: 'momentum',
  description: 'Key encoder as an EMA of the query encoder: θk ← m·θk + (1−m)·θq (MoCo Eq. 2)',
  options: z
    .object({
      /** m of the key encoder's EMA; 0.999 in the paper (the CIFAR demo uses 0.99). 0 = plain copy. */
      keyEncoderMomentum: z.number().min(0).max(1).default(0.999),
      /** 'cosine': m rises from `keyEncoderMomentum` to 1 over training, 1 − (1 − m0)(cos πp + 1)/2 (BYOL, MoCo v3). */
      schedule: z.enum(['constant', 'cosine']).default('constant'),
    })
    .strict(),
  create: (o) => new MomentumUpdate('momentum', o.keyEncoderMomentum, o.schedule),
});

export const copyStrategy = defineStrategy({
  family: 'update',
  id: 'copy',
  description: 'Key encoder = a copy of the query encoder after every step (momentum 0; the paper reports it fails)',
  options: z.object({}).strict(),
  create: () => new MomentumUpdate('copy', 0),
});

export const momentumPlugin = strategyPlugin('tfjs-moco/momentum', '0.1.0', [momentumStrategy, copyStrategy]);
