import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { NceLoss, type NceNormalizer } from './nce-loss.js';

export { NceLoss, type NceNormalizer };

export const nceStrategy = defineStrategy({
  family: 'loss',
  id: 'nce',
  description: 'Binary NCE: positive vs each negative as data vs uniform noise, h = σ(s/τ − log K·Pn·Z) (InstDisc, Wu et al. 2018)',
  options: z
    .object({
      /** τ; 0.07 in Wu et al. */
      temperature: z.number().gt(0).max(10).default(0.07),
      /** K·Pn·Z: 'first-step' (estimated on the first batch, then fixed, as Wu et al.), 'per-step', or 'none' (= 1: plain logistic loss). */
      normalizer: z.enum(['first-step', 'per-step', 'none']).default('first-step'),
      /** Both views as query, losses added. */
      symmetric: z.boolean().default(false),
    })
    .strict(),
  create: (o) => new NceLoss(o.temperature, o.normalizer, o.symmetric),
  capabilities: (o) => ({ symmetric: o.symmetric }),
});

export const ncePlugin = strategyPlugin('tfjs-moco/nce', '0.1.0', [nceStrategy]);
