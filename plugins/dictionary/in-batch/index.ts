import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { InBatchDictionary, dropDiagonal } from './in-batch-dictionary.js';

export { InBatchDictionary, dropDiagonal };

export const inBatchStrategy = defineStrategy({
  family: 'dictionary',
  id: 'in-batch',
  description: 'The other keys of the same batch as negatives, K = batch − 1 (end-to-end, MoCo Fig. 2a; with a momentum encoder: MoCo v3)',
  options: z.object({}).strict(),
  strategy: InBatchDictionary,
  capabilities: { negativesFromBatch: true },
});

export const inBatchPlugin = strategyPlugin('tfjs-moco/in-batch', '0.1.0', [inBatchStrategy]);
