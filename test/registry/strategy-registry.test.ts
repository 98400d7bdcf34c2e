import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useCpu } from '../helpers/tf.js';
import { tinyBackbone } from '../helpers/tiny.js';
import {
  ConfigError,
  DuplicateStrategyError,
  createMoco,
  defineStrategy,
  strategyPlugin,
  z,
  type DictionaryStrategy,
  type StrategyState,
} from '../../src/index.js';
import { builtinPlugins, queueStrategy } from '../../plugins/index.js';

await useCpu();

/** A third-party dictionary: a fixed set of orthogonal negatives, written outside src/ and plugins/. */
class FixedNegatives implements DictionaryStrategy {
  readonly id = 'fixed';
  readonly requiresIndices = false;
  readonly providesPositives = false;
  private store: tf.Tensor2D | undefined;
  constructor(readonly count: number) {}
  setup(ctx: { dim: number }) {
    this.store = tf.keep(tf.slice(tf.eye(Math.max(this.count, ctx.dim)), [0, 0], [this.count, ctx.dim]) as tf.Tensor2D);
  }
  negativeSimilarities(q: tf.Tensor2D) {
    return tf.matMul(q, this.store!, false, true) as tf.Tensor2D;
  }
  update() {}
  stats() {
    return { size: this.count, filled: this.count };
  }
  state(): StrategyState {
    return { tensors: {}, values: {} };
  }
  loadState() {}
  dispose() {
    this.store?.dispose();
  }
}

const fixedPlugin = strategyPlugin('acme/fixed-negatives', '1.0.0', [
  defineStrategy({
    family: 'dictionary',
    id: 'fixed',
    description: 'orthogonal constant negatives',
    options: z.object({ count: z.number().int().min(1).default(4) }).strict(),
    create: (o) => new FixedNegatives(o.count),
  }),
]);

test.serial('a third-party plugin adds a dictionary and the config selects it', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'tp'), plugins: [...builtinPlugins, fixedPlugin], config: { dictionary: { id: 'fixed', count: 3 } } });
  t.like(moco.config.dictionary, { id: 'fixed', count: 3 });
  t.is(moco.registry.pluginOf('dictionary', 'fixed'), 'acme/fixed-negatives');
  t.true(moco.registry.ids('dictionary').includes('queue'));
  const steps: number[] = [];
  moco.on('step').subscribe((e) => steps.push(e.dictionarySize));
  const data = (await import('../helpers/tiny.js')).randomImages(8);
  await moco.fit(data, { epochs: 1, batchSize: 4 });
  t.deepEqual(steps, [3, 3]);
  moco.dispose();
});

test.serial('an unknown id lists the registered ids', (t) => {
  const err = t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'u'), plugins: builtinPlugins, config: { dictionary: 'memory-bnak' } }), { instanceOf: ConfigError });
  t.is(err!.field, 'dictionary.id');
  t.regex(err!.message, /unknown dictionary strategy 'memory-bnak'; registered: in-batch, memory-bank, queue/);
});

test.serial('two plugins binding the same id is an error naming both', (t) => {
  const clone = strategyPlugin('acme/my-queue', '2.0.0', [queueStrategy]);
  const err = t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'd'), plugins: [...builtinPlugins, clone] }), { instanceOf: DuplicateStrategyError });
  t.regex(err!.message, /dictionary strategy 'queue' is registered twice: by plugin 'tfjs-moco\/queue' and by plugin 'acme\/my-queue'/);
});

test.serial('a bad option names the field, the bad value and what is allowed', (t) => {
  const bad = (config: object) => t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'b'), plugins: builtinPlugins, config: config as never }), { instanceOf: ConfigError })!;
  let err = bad({ loss: { temperature: -1 } });
  t.is(err.field, 'loss.temperature');
  t.regex(err.message, /loss\.temperature: .*>\s*0.*\(got -1\)/);
  err = bad({ dictionary: { size: 10.5 } });
  t.regex(err.message, /dictionary\.size: .*int.*\(got 10\.5\)/);
  err = bad({ update: { keyEncoderMomentum: 1.5 } });
  t.regex(err.message, /update\.keyEncoderMomentum: .*<=\s*1.*\(got 1\.5\)/);
  err = bad({ normalization: { groupz: 4 } });
  t.regex(err.message, /normalization: unknown option\(s\) 'groupz'/);
  err = bad({ optimizer: { schedule: 'linear' } });
  t.regex(err.message, /optimizer\.schedule: .*"constant".*"step".*"cosine".*\(got "linear"\)/);
  err = bad({ preset: 'mocov9' });
  t.regex(err.message, /preset: unknown preset 'mocov9'; registered: default, end-to-end, fmnist-default, memory-bank, mocov1, mocov2/);
  // Several problems are reported at once.
  err = bad({ loss: { temperature: 0 }, dictionary: { size: 0 } });
  t.regex(err.message, /loss\.temperature[\s\S]*dictionary\.size/);
});

test.serial('an impossible combination is refused at load with the reason', (t) => {
  const noBatchNorm = tfl.sequential({
    layers: [tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3 }), tfl.layers.globalAveragePooling2d({})],
  });
  const err = t.throws(() => createMoco({ backbone: noBatchNorm, plugins: builtinPlugins, config: { normalization: 'shuffle-bn' } }), { instanceOf: ConfigError });
  t.regex(err!.message, /normalization: 'shuffle-bn' cannot be used here: the backbone has no BatchNormalization layer/);
  t.notThrows(() => createMoco({ backbone: noBatchNorm, plugins: builtinPlugins, config: { normalization: 'batchnorm' } }));
});

test.serial('a backbone that is not a feature extractor is refused with the fix', (t) => {
  const noPool = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3 })] });
  t.throws(() => createMoco({ backbone: noPool, plugins: builtinPlugins }), { message: /backbone: output must be a feature vector.*globalAveragePooling2d/ });
  t.throws(() => createMoco({ backbone: {} as never, plugins: builtinPlugins }), { message: /backbone: expected a tf.LayersModel/ });
});

test.serial('defaults are the paper\'s (MoCo v1) and the preset can be overridden field by field', (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'def'), plugins: builtinPlugins });
  t.like(moco.config, {
    head: { type: 'linear', dim: 128 },
    optimizer: { learningRate: 0.03, momentum: 0.9, weightDecay: 1e-4, schedule: 'step' },
    loss: { id: 'infonce', temperature: 0.07 },
    dictionary: { id: 'queue', size: 65536 },
    update: { id: 'momentum', keyEncoderMomentum: 0.999 },
    normalization: { id: 'shuffle-bn', groups: 8 },
  });
  const v2 = createMoco({ backbone: tinyBackbone(8, 1, 4, 'v2'), plugins: builtinPlugins, config: { preset: 'mocov2', loss: { temperature: 0.1 } } });
  t.like(v2.config, { head: { type: 'mlp', hidden: 2048 }, optimizer: { schedule: 'cosine' }, loss: { id: 'infonce', temperature: 0.1 } });
});

test.serial('no plugins: every family says what to load', (t) => {
  const err = t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'np'), plugins: [] }), { instanceOf: ConfigError });
  t.regex(err!.message, /no strategy chosen and no preset supplies one/);
});
