import 'reflect-metadata';
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../helpers/tf.js';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import {
  BackendFacts,
  ConfigError,
  ContainerModule,
  Random,
  RunRandom,
  StrategyOptions,
  StrategyTokens,
  WarningSink,
  createMoco,
  defineStrategy,
  inject,
  injectable,
  strategyPlugin,
  z,
  type AugmentationStrategy,
  type MocoPlugin,
} from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();

/** What the probe saw when the run's container built it. */
const seen: { options?: unknown; randomState?: number; backend?: string; greeting?: string }[] = [];
const GREETING = Symbol('acme/greeting');

/** A crop-free augmentation that records what it was injected with and warns once. */
@injectable()
class Probe implements AugmentationStrategy {
  readonly id = 'probe';
  constructor(
    @inject(StrategyOptions) options: { scale: number },
    @inject(RunRandom) random: Random,
    @inject(WarningSink) private readonly warnings: WarningSink,
    @inject(BackendFacts) backend: BackendFacts,
    @inject(GREETING) greeting: string,
  ) {
    seen.push({ options, randomState: random.getState(), backend: backend.name, greeting });
  }
  views(images: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    this.warnings.warn('probe: views made');
    return [tf.clone(images), tf.clone(images)];
  }
}

// The plugin binds its own service next to the factory; the strategy gets both by injection.
const probePlugin: MocoPlugin = {
  name: 'acme/probe',
  version: '1.0.0',
  module: new ContainerModule((o) => {
    o.bind(GREETING).toConstantValue('hello from acme');
    o.bind(StrategyTokens.augmentation).toConstantValue(
      defineStrategy({ family: 'augmentation', id: 'probe', description: 'records its injections', options: z.object({ scale: z.number().default(2) }).strict(), strategy: Probe }),
    );
  }),
};

test.serial('a strategy class receives its options and the run services by @inject, without design:paramtypes', async (t) => {
  t.is(Reflect.getMetadata('design:paramtypes', Probe), undefined, 'tsx (esbuild) emits no design:paramtypes: injection must rest on @inject alone');
  seen.length = 0;
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'probe'), plugins: [...builtinPlugins, probePlugin], config: { augmentation: 'probe', dictionary: { size: 8 }, normalization: { groups: 2 }, head: { dim: 8 }, seed: 42 } });
  t.deepEqual(seen, [{ options: { scale: 2 }, randomState: new Random(42).getState(), backend: 'cpu', greeting: 'hello from acme' }]);
  const warnings: string[] = [];
  moco.on('warning').subscribe((e) => warnings.push(e.message));
  await moco.fit(randomImages(8), { epochs: 1, batchSize: 4 });
  t.deepEqual(warnings, ['probe: views made', 'probe: views made'], 'the WarningSink reaches events$, once per step');
  moco.dispose();
});

test.serial("a plugin's own bindings stay in its container: another plugin's strategy cannot inject them", (t) => {
  const factory = defineStrategy({ family: 'augmentation', id: 'stranger', description: 'injects a service it did not bind', options: z.object({ scale: z.number().default(1) }).strict(), strategy: Probe });
  const stranger = strategyPlugin('acme/stranger', '1.0.0', [factory]);
  const make = () => createMoco({ backbone: tinyBackbone(8, 1, 4, 'stranger'), plugins: [...builtinPlugins, probePlugin, stranger], config: { augmentation: 'stranger', dictionary: { size: 8 } } });
  t.throws(make, { message: /acme\/greeting|Symbol\(acme\/greeting\)/ });
});

test.serial('the memory bank judges a third-party update rule and normalization by capability, as it does the built-ins', (t) => {
  const plugin = strategyPlugin('acme/rules', '1.0.0', [
    defineStrategy({ family: 'update', id: 'acme-end-to-end', description: 'keys from the query encoder', options: z.object({}).strict(), create: () => ({ id: 'acme-end-to-end' }), capabilities: { keySource: 'query-encoder' } }),
    defineStrategy({ family: 'normalization', id: 'acme-shuffle', description: 'shuffles keys', options: z.object({}).strict(), create: () => ({ id: 'acme-shuffle', encodeKeys: (f, v) => f(v) }), capabilities: { shufflesKeys: true } }),
  ]);
  const refuse = (config: object) => t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'mb'), plugins: [...builtinPlugins, plugin], config: { preset: 'memory-bank', ...config } }), { instanceOf: ConfigError })!.message;
  t.regex(refuse({ update: 'shared' }), /dictionary: 'memory-bank' cannot be used here: .*rule 'shared' would silently do nothing/);
  t.regex(refuse({ update: 'acme-end-to-end' }), /dictionary: 'memory-bank' cannot be used here: .*rule 'acme-end-to-end' would silently do nothing/);
  t.regex(refuse({ normalization: 'shuffle-bn' }), /dictionary: 'memory-bank' cannot be used here: Shuffle BN shuffles the key encoder's batch \(normalization 'shuffle-bn' does\)/);
  t.regex(refuse({ normalization: 'acme-shuffle' }), /dictionary: 'memory-bank' cannot be used here: Shuffle BN shuffles the key encoder's batch \(normalization 'acme-shuffle' does\)/);
});
