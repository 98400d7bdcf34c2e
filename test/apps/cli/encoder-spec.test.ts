import test from 'ava';
import { maxAbsDiff, useCpu } from '../../helpers/tf.js';
import { buildEncoder } from '../../../apps/cli/encoder-spec.js';
import { freshCopy } from '../../../src/eval/index.js';

await useCpu();

test.serial('CLI encoders are seeded: two builds, and the random-init baseline (freshCopy), have the very same weights', async (t) => {
  for (const spec of [{ name: 'tiny' as const, seed: 1 }, { name: 'small-convnet' as const, width: 4, seed: 1 }]) {
    const a = buildEncoder(spec, [8, 8, 1]);
    const b = buildEncoder(spec, [8, 8, 1]);
    const c = await freshCopy(a);
    t.is(a.weights.length, c.weights.length);
    a.weights.forEach((w, i) => {
      t.is(maxAbsDiff(w.read(), b.weights[i].read()), 0, `${spec.name} ${w.originalName}`);
      t.is(maxAbsDiff(w.read(), c.weights[i].read()), 0, `${spec.name} ${w.originalName} (fresh copy)`);
    });
    [a, b, c].forEach((m) => m.dispose());
  }
});

test.serial('model.stageWidths and model.stageStrides reach smallConvNet; other models refuse them, naming the fields', (t) => {
  const layout = { stageWidths: [16, 32, 64] as [number, number, number], stageStrides: [1, 2, 2] as [number, number, number] };
  const old = buildEncoder({ name: 'small-convnet', seed: 1, ...layout }, [28, 28, 1]);
  t.deepEqual(old.outputs[0].shape, [null, 64]);
  t.deepEqual(old.getLayer('stage1_0_relu2').outputShape, [null, 28, 28, 16]);
  const dflt = buildEncoder({ name: 'small-convnet', seed: 1 }, [28, 28, 1]);
  t.deepEqual(dflt.outputs[0].shape, [null, 128]);
  t.deepEqual(dflt.getLayer('stage1_0_relu2').outputShape, [null, 14, 14, 32]);
  [old, dflt].forEach((m) => m.dispose());
  const e = t.throws(() => buildEncoder({ name: 'resnet18-cifar', seed: 1, ...layout }, [32, 32, 3]));
  t.regex(e!.message, /model\.stageWidths and model\.stageStrides apply to small-convnet only, not resnet18-cifar/);
});
