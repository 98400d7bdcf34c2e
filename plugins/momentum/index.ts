import { defineStrategy, strategyPlugin, z } from '../../src/index.js';
import { MomentumUpdate } from './momentum-update.js';

export { MomentumUpdate };

export const momentumStrategy = defineStrategy({
  family: 'update',
  id: 'momentum',
  description: 'Key encoder as an EMA of the query encoder: θk ← m·θk + (1−m)·θq (MoCo Eq. 2)',
  options: z
    .object({
      /** m; 0.999 in the paper (the CIFAR demo uses 0.99). 0 = plain copy. */
      momentum: z.number().min(0).max(1).default(0.999),
    })
    .strict(),
  create: (o) => new MomentumUpdate('momentum', o.momentum),
});

export const copyStrategy = defineStrategy({
  family: 'update',
  id: 'copy',
  description: 'Key encoder = a copy of the query encoder after every step (momentum 0; the paper reports it fails)',
  options: z.object({}).strict(),
  create: () => new MomentumUpdate('copy', 0),
});

export const momentumPlugin = strategyPlugin('tfjs-moco/momentum', '0.1.0', [momentumStrategy, copyStrategy]);
