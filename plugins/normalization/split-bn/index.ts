import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { SplitBatchNorm } from './split-batchnorm.js';

export { SplitBatchNorm };

export const splitBnStrategy = defineStrategy({
  family: 'normalization',
  id: 'split-bn',
  description: 'Split (ghost) BN: per-group BN statistics on both encoders, no shuffle (per-GPU BN of the paper, MoCo CIFAR demo --bn-splits)',
  options: z
    .object({
      /** G, the emulated GPUs. Keep batchSize / G ≥ 2, ideally ≥ 16. */
      // Per thread: with data-parallel workers each worker's share has this many groups (1: BN per worker).
      groups: z.number().int().min(1).max(1024).default(8),
    })
    .strict(),
  create: (o) => new SplitBatchNorm(o.groups),
  capabilities: { needsBatchNorm: true },
});

export const splitBnPlugin = strategyPlugin('tfjs-moco/split-bn', '0.1.0', [splitBnStrategy]);
