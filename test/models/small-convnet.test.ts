import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { smallConvNet } from '../../src/models/small-convnet.js';
import { countMacs, countParams } from '../../src/models/model-stats.js';
import { BN_EPSILON, BN_MOMENTUM } from '../../src/models/layer-factory.js';

test.before(async () => {
  await useCpu();
});

const STANDARD_LAYERS = new Set(['InputLayer', 'Conv2D', 'BatchNormalization', 'Activation', 'Add', 'GlobalAveragePooling2D']);

test.serial('default smallConvNet: 128-d output, MACs and parameters as documented and derived by hand', (t) => {
  const model = smallConvNet();
  t.deepEqual(model.outputs[0].shape, [null, 128]);
  t.deepEqual(model.inputs[0].shape, [null, 28, 28, 1]);
  const w = 16;
  // conv MACs = H·W·k²·Cin·Cout at the output resolution (1×1 for the projection shortcuts); every stage
  // halves the resolution: 28 → 14 → 7 → 4 ('same' padding rounds 7/2 up).
  const block = (hw: number, cin: number, cout: number) => hw * hw * (9 * cin * cout + 9 * cout * cout + cin * cout);
  const macs = 28 * 28 * 9 * 1 * w + block(14, w, 2 * w) + block(7, 2 * w, 4 * w) + block(4, 4 * w, 8 * w);
  t.is(countMacs(model), macs);
  t.is(macs, 9_402_624);
  const blockParams = (cin: number, cout: number) => 9 * cin * cout + 9 * cout * cout + cin * cout;
  const conv = 9 * 1 * w + blockParams(w, 2 * w) + blockParams(2 * w, 4 * w) + blockParams(4 * w, 8 * w);
  const bnChannels = w + 3 * 2 * w + 3 * 4 * w + 3 * 8 * w; // stem; bn1, bn2 and the shortcut's BN per stage
  t.deepEqual(countParams(model), { trainable: conv + 2 * bnChannels, nonTrainable: 2 * bnChannels, total: conv + 4 * bnChannels });
  t.is(countParams(model).trainable, 302_576);
  // Stage 3 runs at 4×4.
  t.deepEqual(model.getLayer('stage3_0_relu2').outputShape, [null, 4, 4, 8 * w]);
  model.dispose();
});

test.serial('stageWidths and stageStrides give the 64-d layout whose first stage keeps full resolution', (t) => {
  const model = smallConvNet({ stageWidths: [16, 32, 64], stageStrides: [1, 2, 2] });
  t.deepEqual(model.outputs[0].shape, [null, 64]);
  t.deepEqual(model.getLayer('stage1_0_relu2').outputShape, [null, 28, 28, 16]);
  t.is(countMacs(model), 9_345_280);
  t.is(countParams(model).trainable, 77_104);
  t.throws(() => model.getLayer('stage1_0_shortcut_conv')); // identity shortcut where the shapes match
  model.dispose();
});

test.serial('only standard layers; PyTorch-like BN; bias-free convs; every layer named', (t) => {
  const model = smallConvNet({ width: 4 });
  for (const layer of model.layers) {
    t.true(STANDARD_LAYERS.has(layer.getClassName()), layer.getClassName());
    const config = layer.getConfig();
    if (layer.getClassName() === 'BatchNormalization') {
      t.is(config.momentum, BN_MOMENTUM);
      t.is(config.epsilon, BN_EPSILON);
    }
    if (layer.getClassName() === 'Conv2D') t.false(config.useBias);
  }
  t.is(BN_MOMENTUM, 0.9);
  t.is(BN_EPSILON, 1e-5);
  const names = model.layers.map((l) => l.name);
  t.is(new Set(names).size, names.length);
  t.true(names.includes('stem_conv'));
  t.true(names.includes('stage2_0_shortcut_conv'));
  t.true(names.includes('pool'));
  t.true(names.includes('stage1_0_shortcut_conv')); // stage 1 changes width and resolution
  model.dispose();
});

test.serial('forward pass on a batch gives finite features and leaks no tensors', (t) => {
  const before = tf.memory().numTensors;
  const model = smallConvNet({ width: 4, seed: 1 });
  const y = tf.tidy(() => model.apply(tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 3), { training: false }) as tf.Tensor);
  t.deepEqual(y.shape, [2, 32]);
  t.true(Array.from(y.dataSync()).every(Number.isFinite));
  y.dispose();
  model.dispose();
  t.is(tf.memory().numTensors, before);
});

test.serial('seed 0 is a real seed: every weight repeats (tfjs alone would leave the first conv unseeded)', (t) => {
  const a = smallConvNet({ width: 4, seed: 0 });
  const b = smallConvNet({ width: 4, seed: 0 });
  const wa = a.getWeights();
  const wb = b.getWeights();
  t.is(wa.length, wb.length);
  wa.forEach((w, i) => t.is(maxAbsDiff(w, wb[i]), 0, a.weights[i].originalName));
  a.dispose();
  b.dispose();
});

test.serial('seeded init repeats; two instances share layer and weight names so weights map by name', (t) => {
  const a = smallConvNet({ width: 4, seed: 7 });
  const b = smallConvNet({ width: 4, seed: 7 });
  const c = smallConvNet({ width: 4, seed: 8 });
  t.deepEqual(a.weights.map((w) => w.originalName), b.weights.map((w) => w.originalName));
  t.is(maxAbsDiff(a.getLayer('stage3_0_conv2').getWeights()[0], b.getLayer('stage3_0_conv2').getWeights()[0]), 0);
  t.true(maxAbsDiff(a.getLayer('stage3_0_conv2').getWeights()[0], c.getLayer('stage3_0_conv2').getWeights()[0]) > 0);
  // layers of one model draw different values (the first 288 values of 4→8 and 8→8 kernels)
  const [k1, k2] = tf.tidy(() => {
    const first = tf.reshape(a.getLayer('stage1_0_conv1').getWeights()[0], [-1]);
    return [first, tf.slice(tf.reshape(a.getLayer('stage1_0_conv2').getWeights()[0], [-1]), 0, first.size)];
  });
  t.true(maxAbsDiff(k1, k2) > 0);
  tf.dispose([k1, k2]);
  // copy c's weights into a by layer name (what a key encoder does with its query encoder)
  for (const layer of c.layers) a.getLayer(layer.name).setWeights(layer.getWeights());
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 5);
  const ya = a.predict(x) as tf.Tensor;
  const yc = c.predict(x) as tf.Tensor;
  t.is(maxAbsDiff(ya, yc), 0);
  tf.dispose([x, ya, yc]);
  for (const m of [a, b, c]) m.dispose();
});

test.serial('save and load with plain tfjs gives the same model', async (t) => {
  const model = smallConvNet({ width: 2, seed: 3, inputShape: [12, 12, 1] });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  t.deepEqual(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
  const x = tf.randomUniform([2, 12, 12, 1], 0, 1, 'float32', 9);
  const y1 = model.predict(x) as tf.Tensor;
  const y2 = loaded.predict(x) as tf.Tensor;
  t.true(maxAbsDiff(y1, y2) < 1e-6);
  tf.dispose([x, y1, y2]);
  model.dispose();
  loaded.dispose();
});
