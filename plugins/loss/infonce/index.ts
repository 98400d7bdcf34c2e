import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { InfoNceLoss } from './infonce-loss.js';

export { InfoNceLoss };

export const infonceStrategy = defineStrategy({
  family: 'loss',
  id: 'infonce',
  description: 'InfoNCE: (K+1)-way cross-entropy over similarities / temperature (MoCo Eq. 1)',
  options: z
    .object({
      /** τ; 0.07 in MoCo v1, 0.2 in v2. */
      temperature: z.number().gt(0).max(10).default(0.07),
      /** Both views as query, losses added (MoCo CIFAR demo, MoCo v3). */
      symmetric: z.boolean().default(false),
    })
    .strict(),
  create: (o) => new InfoNceLoss(o.temperature, o.symmetric),
  capabilities: (o) => ({ symmetric: o.symmetric }),
});

export const infoncePlugin = strategyPlugin('tfjs-moco/infonce', '0.1.0', [infonceStrategy]);
