import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { QueueDictionary, type QueueOptions } from './queue-dictionary.js';

export { QueueDictionary, type QueueOptions };

export const queueStrategy = defineStrategy({
  family: 'dictionary',
  id: 'queue',
  description: 'FIFO queue of the K most recent keys (MoCo Sec. 3.2)',
  options: z
    .object({
      /** K, the number of negatives; 65536 in the paper (ImageNet). Must be ≥ the batch size. */
      size: z.number().int().min(1).max(1 << 20).default(65536),
    })
    .strict(),
  strategy: QueueDictionary,
});

export const queuePlugin = strategyPlugin('tfjs-moco/queue', '0.1.0', [queueStrategy]);
