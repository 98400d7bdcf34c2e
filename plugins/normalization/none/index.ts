import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { BATCH_STATISTICS_LAYERS, NoNormalization } from './no-normalization.js';

export { BATCH_STATISTICS_LAYERS, NoNormalization };

export const noNormalizationStrategy = defineStrategy({
  family: 'normalization',
  id: 'none',
  description: 'No BatchNorm handling, for backbones without BatchNormalization (GroupNorm/LayerNorm); refuses a backbone that has it',
  options: z.object({}).strict(),
  create: () => new NoNormalization(),
  check: (choice) => (choice.model ? new NoNormalization().checkModel(choice.model) : undefined),
});

export const noNormalizationPlugin = strategyPlugin('tfjs-moco/no-normalization', '0.1.0', [noNormalizationStrategy]);
