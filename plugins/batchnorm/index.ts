import { defineStrategy, strategyPlugin, z } from '../../src/index.js';
import { PlainBatchNorm } from './plain-batchnorm.js';

export { PlainBatchNorm };

export const batchnormStrategy = defineStrategy({
  family: 'normalization',
  id: 'batchnorm',
  description: "Plain BatchNorm over the whole batch (the paper's baseline that lets the model cheat)",
  options: z.object({}).strict(),
  create: () => new PlainBatchNorm(),
});

export const batchnormPlugin = strategyPlugin('tfjs-moco/batchnorm', '0.1.0', [batchnormStrategy]);
