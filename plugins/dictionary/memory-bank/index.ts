import { defineStrategy, strategyPlugin, z, type StrategyChoice } from '../../../src/index.js';
import { MemoryBankDictionary, type MemoryBankOptions } from './memory-bank-dictionary.js';

export { MemoryBankDictionary, type MemoryBankOptions };

/**
 * Combinations refused at config load (MoCo Sec. 3.2: the bank replaces the key encoder altogether),
 * decided by the other strategies' capabilities, so a third-party update rule, loss or normalization is
 * judged exactly as a built-in one.
 */
function checkMemoryBank(choice: StrategyChoice): string | undefined {
  const { update, loss, normalization } = choice.capabilities;
  if (update.keySource === 'query-encoder') {
    return `the memory bank supplies each positive from its stored slot, so no encoder computes keys and the end-to-end rule '${choice.ids.update}' would silently do nothing (its keySource is the query encoder); keep update 'momentum' (unused: no key encoder is built) or use dictionary 'in-batch' for end-to-end`;
  }
  if (loss.symmetric) {
    return 'a symmetric loss swaps the two views, but the memory bank has no second view: both orders would score a query against the same stored slot and update it twice per step; set loss.symmetric to false';
  }
  if (normalization.shufflesKeys) {
    return `Shuffle BN shuffles the key encoder's batch (normalization '${choice.ids.normalization}' does), and with a memory bank there is no key encoder (the positive is a stored slot, which shares no batch statistics with its query); choose normalization 'batchnorm', or 'split-bn' for per-group statistics`;
  }
  return undefined;
}

export const memoryBankStrategy = defineStrategy({
  family: 'dictionary',
  id: 'memory-bank',
  description: 'Memory bank: one slot per image, K uniformly sampled negatives, slot ← normalize(μ·slot + (1−μ)·q) (Wu et al. 2018; MoCo Fig. 2b)',
  options: z
    .object({
      /** K, negatives drawn uniformly (with replacement) from the bank each step, shared by the batch; 4096 in Wu et al. */
      negatives: z.number().int().min(1).max(1 << 20).default(4096),
      /** μ of the slot update; 0.5 in Wu et al. and in the MoCo paper's reimplementation. */
      bankMomentum: z.number().min(0).max(1).default(0.5),
    })
    .strict(),
  strategy: MemoryBankDictionary,
  capabilities: { providesPositives: true, needsIndices: true },
  check: checkMemoryBank,
});

export const memoryBankPlugin = strategyPlugin('tfjs-moco/memory-bank', '0.1.0', [memoryBankStrategy]);
