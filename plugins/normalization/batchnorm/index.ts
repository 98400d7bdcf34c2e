import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { PlainBatchNorm } from './plain-batchnorm.js';

export { PlainBatchNorm };

export const batchnormStrategy = defineStrategy({
  family: 'normalization',
  id: 'batchnorm',
  description: "Plain BatchNorm over the whole batch (the paper's baseline that lets the model cheat)",
  options: z
    .object({
      /**
       * 'hand-written' (default): train with the library's one-node BatchNorm gradient (same arithmetic,
       * faster); 'autodiff': keep the model's stock layers and tfjs's op-by-op gradient.
       */
      gradient: z.enum(['hand-written', 'autodiff']).default('hand-written'),
    })
    .strict(),
  create: (o) => new PlainBatchNorm(o.gradient),
});

export const batchnormPlugin = strategyPlugin('tfjs-moco/batchnorm', '0.1.0', [batchnormStrategy]);
