// The plugin: load it next to the built-ins and pick the loss by id in the config:
// createMoco({ plugins: [...builtinPlugins, debiasedLossPlugin], config: { loss: { id: 'debiased', tauPlus: 0.1 } } }).
import { defineStrategy, strategyPlugin, z } from '../../src/index.js';
import { DebiasedContrastiveLoss } from './debiased-loss.js';

export { DebiasedContrastiveLoss };

export const debiasedLossStrategy = defineStrategy({
  family: 'loss',
  id: 'debiased',
  description: 'Debiased contrastive loss (Chuang et al. 2020): InfoNCE with the expected same-class share of the negatives removed',
  options: z
    .object({
      /** t; ≥ 0.03 so the clamp e^(−1/t) stays representable in float32. */
      temperature: z.number().min(0.03).max(10).default(0.2),
      /** τ⁺, the class prior (1/classes for balanced data; 0 = InfoNCE). */
      tauPlus: z.number().min(0).lt(1).default(0.1),
      symmetric: z.boolean().default(false),
    })
    .strict(),
  create: (o) => new DebiasedContrastiveLoss(o.temperature, o.tauPlus, o.symmetric),
  capabilities: (o) => ({ symmetric: o.symmetric }),
});

export const debiasedLossPlugin = strategyPlugin('acme/debiased-loss', '1.0.0', [debiasedLossStrategy]);
