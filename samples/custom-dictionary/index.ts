// The plugin: a name, a version and the strategies it binds. Load it next to the built-ins and pick it
// by id in the config: createMoco({ plugins: [...builtinPlugins, ownImageQueuePlugin], config: { dictionary: 'own-image-queue' } }).
import { defineStrategy, strategyPlugin, z } from '../../src/index.js';
import { OwnImageQueue, SKIPPED } from './own-image-queue.js';

export { OwnImageQueue, SKIPPED };

export const ownImageQueueStrategy = defineStrategy({
  family: 'dictionary',
  id: 'own-image-queue',
  description: "FIFO queue of past keys that skips, for each query, the stored keys of the query's own image (needs {xs, index} data)",
  options: z
    .object({
      /** K, stored keys. */
      size: z.number().int().min(1).max(1 << 20).default(4096),
    })
    .strict(),
  strategy: OwnImageQueue,
  capabilities: { needsIndices: true },
});

export const ownImageQueuePlugin = strategyPlugin('acme/own-image-queue', '1.0.0', [ownImageQueueStrategy]);
