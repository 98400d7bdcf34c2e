import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { ShuffleBatchNorm } from './shuffle-batchnorm.js';

export { ShuffleBatchNorm };

export const shuffleBnStrategy = defineStrategy({
  family: 'normalization',
  id: 'shuffle-bn',
  description: 'Shuffle BN: per-group BN statistics on both encoders, key batch shuffled across groups (MoCo Sec. 3.3)',
  options: z
    .object({
      /**
       * G, the emulated GPUs (the paper uses 8), per thread: with data-parallel workers each worker's share has
       * G groups and the key batch is shuffled across the workers too, so G 1 is the paper's one BN per device.
       * Keep batchSize / G ≥ 2 (per share), ideally ≥ 16.
       */
      groups: z.number().int().min(1).max(1024).default(8),
    })
    .strict(),
  create: (o) => new ShuffleBatchNorm(o.groups),
  capabilities: { shufflesKeys: true, needsBatchNorm: true },
});

export const shuffleBnPlugin = strategyPlugin('tfjs-moco/shuffle-bn', '0.1.0', [shuffleBnStrategy]);
