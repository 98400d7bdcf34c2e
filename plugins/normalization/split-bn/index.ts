import { defineStrategy, strategyPlugin, z, type StrategyChoice } from '../../../src/index.js';
import { SplitBatchNorm } from './split-batchnorm.js';

export { SplitBatchNorm };

const needsBatchNorm = (choice: StrategyChoice): string | undefined =>
  choice.model && !choice.model.layerClasses.includes('BatchNormalization')
    ? "the backbone has no BatchNormalization layer, so there are no batch statistics to split; choose normalization 'none' (for GroupNorm/LayerNorm models) or 'batchnorm'"
    : undefined;

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
  check: needsBatchNorm,
});

export const splitBnPlugin = strategyPlugin('tfjs-moco/split-bn', '0.1.0', [splitBnStrategy]);
