// The smallest useful dictionary plugin, written as a third party would: negatives are the keys of the
// previous step (a queue one batch long). It gets the run's seeded random generator by injection and
// judges the update rule by its declared capability, so a third-party rule is refused like a built-in.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../helpers/tf.js';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import * as moco from '../../src/index.js';
import { RunRandom, defineStrategy, inject, injectable, l2Normalize, strategyPlugin, z } from '../../src/index.js';
import type { DictionaryStrategy, DictionaryUpdate, Random, SetupContext } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

@injectable()
class PreviousKeys implements DictionaryStrategy {
  readonly id = 'previous-keys';
  private keys?: tf.Tensor2D;
  constructor(@inject(RunRandom) private readonly random: Random) {}
  setup({ dim, batchSize }: SetupContext) {
    const seed = this.random.seed();
    this.keys = tf.tidy(() => l2Normalize(tf.randomNormal([batchSize, dim], 0, 1, 'float32', seed)) as tf.Tensor2D);
  }
  negativeSimilarities(queries: tf.Tensor2D) {
    return tf.matMul(queries, this.keys!, false, true) as tf.Tensor2D;
  }
  update({ keys }: DictionaryUpdate) {
    this.keys!.dispose();
    this.keys = tf.keep(tf.clone(keys));
  }
  dispose() {
    this.keys?.dispose();
  }
}

const previousKeysPlugin = strategyPlugin('acme/previous-keys', '1.0.0', [
  defineStrategy({
    family: 'dictionary',
    id: 'previous-keys',
    description: 'the keys of the previous step as negatives',
    options: z.object({}).strict(),
    strategy: PreviousKeys,
    check: (choice) => (choice.capabilities.update.keySource === 'query-encoder' ? 'stored keys need a key encoder' : undefined),
  }),
]);
// ---- end of the plugin (the lines above are all it takes) ----

await useCpu();
const config = { dictionary: 'previous-keys', normalization: { id: 'split-bn', groups: 2 }, head: { dim: 8 }, augmentation: 'crop-flip', seed: 3 };

test.serial('the small dictionary plugin trains: K = batch from its negatives, finite loss, no tensor leaked', async (t) => {
  const backbone = tinyBackbone(8, 1, 4, 'pk');
  const before = tf.memory().numTensors;
  const run = moco.createMoco({ backbone, plugins: [...builtinPlugins, previousKeysPlugin], config });
  const steps: moco.MocoEventOf<'step'>[] = [];
  run.on('step').subscribe((e) => steps.push(e));
  await run.fit(randomImages(8), { epochs: 2, batchSize: 4 });
  t.deepEqual(steps.map((e) => e.dictionarySize), [4, 4, 4, 4]);
  t.true(steps.every((e) => Number.isFinite(e.loss) && e.loss > 0 && e.pretextAccuracy >= 0 && e.pretextAccuracy <= 1));
  run.dispose();
  t.is(tf.memory().numTensors, before);
});

test.serial('compatibility is judged by capability: a third-party end-to-end rule is refused like the built-in one', (t) => {
  const ownRule = defineStrategy({
    family: 'update',
    id: 'own-end-to-end',
    description: 'keys from the query encoder',
    options: z.object({}).strict(),
    create: () => ({ id: 'own-end-to-end' }),
    capabilities: { keySource: 'query-encoder' },
  });
  const plugins = [...builtinPlugins, previousKeysPlugin, strategyPlugin('acme/own-rule', '1.0.0', [ownRule])];
  for (const update of ['shared', 'own-end-to-end']) {
    const make = () => moco.createMoco({ backbone: tinyBackbone(8, 1, 4, `c${update}`), plugins, config: { ...config, update } });
    t.throws(make, { instanceOf: moco.ConfigError, message: `dictionary: 'previous-keys' cannot be used here: stored keys need a key encoder` });
  }
});
