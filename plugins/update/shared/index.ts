import { defineStrategy, strategyPlugin, z, type StrategyChoice } from '../../../src/index.js';
import { SharedEncoderUpdate } from './shared-encoder-update.js';

export { SharedEncoderUpdate };

/**
 * 'shared' with a 'queue' is allowed: the queue then stores keys of the query encoder itself, which
 * changes every step, the inconsistency MoCo Sec. 3.2 argues against (like momentum 0); unusual but
 * it runs. 'shared' with a dictionary that supplies its own positives is refused by that dictionary's check.
 */
function checkShared(choice: StrategyChoice): string | undefined {
  if (choice.capabilities.normalization.shufflesKeys) {
    return `Shuffle BN shuffles the key encoder's batch, and 'shared' has no key encoder (keys come from the query encoder), so only the per-group statistics of normalization '${choice.ids.normalization}' would remain; choose normalization 'split-bn' (per-group statistics, no shuffle) or 'batchnorm'`;
  }
  return undefined;
}

export const sharedEncoderStrategy = defineStrategy({
  family: 'update',
  id: 'shared',
  description: 'Keys from the query encoder itself, with gradient (end-to-end, MoCo Fig. 2a)',
  options: z.object({}).strict(),
  create: () => new SharedEncoderUpdate(),
  capabilities: { keySource: 'query-encoder' },
  check: checkShared,
});

export const sharedEncoderPlugin = strategyPlugin('tfjs-moco/shared-encoder', '0.1.0', [sharedEncoderStrategy]);
