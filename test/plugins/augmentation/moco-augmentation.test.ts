import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../../helpers/tf.js';
import { tinyBackbone } from '../../helpers/tiny.js';
import { createMoco, Random, type AugmentationStrategy, type StepContext } from '../../../src/index.js';
import { builtinPlugins, mocov1AugmentationStrategy, mocov2AugmentationStrategy, mocoV1, mocoV2 } from '../../../plugins/index.js';

await useCpu();

const ctx = (seed: number): StepContext => ({ epoch: 0, step: 0, progress: 0, random: new Random(seed) });
const recipes: [string, (o?: object) => AugmentationStrategy][] = [
  ['mocov1', (o = {}) => mocov1AugmentationStrategy.create!(mocov1AugmentationStrategy.options.parse(o))],
  ['mocov2', (o = {}) => mocov2AugmentationStrategy.create!(mocov2AugmentationStrategy.options.parse(o))],
];
const batch = (channels: number) => tf.randomUniform([4, 8, 8, channels], 0, 1, 'float32', 11) as tf.Tensor4D;

test('options: documented defaults, and bad values refused', (t) => {
  const v1 = mocov1AugmentationStrategy.options.parse({});
  t.deepEqual(v1, { scale: [0.2, 1], ratio: [3 / 4, 4 / 3], brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4, jitter: 1, grayscale: 0.2, flip: 0.5 });
  const v2 = mocov2AugmentationStrategy.options.parse({});
  t.like(v2, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, jitter: 0.8, grayscale: 0.2, blur: 0.5, sigma: [0.1, 2], blurKernel: 0.1, flip: 0.5 });
  for (const bad of [{ hue: 0.6 }, { grayscale: 1.5 }, { brightness: -0.1 }, { scale: [0.9, 0.2] }, { sigmas: [1, 2] }]) {
    t.false(mocov2AugmentationStrategy.options.safeParse(bad).success, JSON.stringify(bad));
  }
});

for (const [id, make] of recipes) {
  test(`${id}: two views of the input's shape in [0,1], different, identical for the same seed`, (t) => {
    const x = batch(3);
    const aug = make();
    t.is(aug.id, id);
    const [a, b] = aug.views(x, ctx(5));
    t.deepEqual(a.shape, x.shape);
    t.deepEqual(b.shape, x.shape);
    for (const v of [a, b]) t.true(tf.min(v).dataSync()[0] >= 0 && tf.max(v).dataSync()[0] <= 1);
    t.true(maxAbsDiff(a, b) > 0.05);
    const [a2, b2] = aug.views(x, ctx(5));
    t.deepEqual(a2.dataSync(), a.dataSync());
    t.deepEqual(b2.dataSync(), b.dataSync());
    const [a3] = aug.views(x, ctx(6));
    t.true(maxAbsDiff(a3, a) > 0.05, 'another seed, other views');
  });

  test(`${id}: grayscale input passes through`, (t) => {
    const x = batch(1);
    const [a, b] = make().views(x, ctx(1));
    t.deepEqual(a.shape, [4, 8, 8, 1]);
    t.deepEqual(b.shape, [4, 8, 8, 1]);
    t.true(maxAbsDiff(a, b) > 0.05);
    t.true(tf.min(a).dataSync()[0] >= 0 && tf.max(a).dataSync()[0] <= 1);
  });

  test.serial(`${id}: no tensor leaks over 10 calls`, (t) => {
    const rgb = batch(3);
    const gray = batch(1);
    // p 0.5 everywhere, so the per-image select paths run too.
    const aug = make({ jitter: 0.5, grayscale: 0.5, flip: 0.5, ...(id === 'mocov2' ? { blur: 0.5 } : {}) });
    const random = ctx(3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      for (const x of [rgb, gray]) {
        const [a, b] = aug.views(x, random);
        tf.dispose([a, b]);
      }
    }
    t.is(tf.memory().numTensors, before);
  });
}

test.serial('presets: mocov1 and the default use the mocov1 recipe, mocov2 uses mocov2; crop-flip is still registered', (t) => {
  t.deepEqual(mocoV1.config.augmentation, { id: 'mocov1' });
  t.deepEqual(mocoV2.config.augmentation, { id: 'mocov2' });
  const byDefault = createMoco({ backbone: tinyBackbone(8, 1, 4, 'augdef'), plugins: builtinPlugins });
  t.like(byDefault.config.augmentation, { id: 'mocov1', hue: 0.4, jitter: 1 });
  const v2 = createMoco({ backbone: tinyBackbone(8, 1, 4, 'augv2'), plugins: builtinPlugins, config: { preset: 'mocov2' } });
  t.like(v2.config.augmentation, { id: 'mocov2', hue: 0.1, blur: 0.5 });
  t.true(v2.registry.ids('augmentation').includes('crop-flip'));
  t.is(v2.registry.pluginOf('augmentation', 'mocov2'), 'tfjs-moco/mocov2-augmentation');
});
