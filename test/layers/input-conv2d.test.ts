import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import { createMoco, rewriteInputConvs } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();

/** Two convs read the input (one with bias and ReLU), a third reads the first: a functional model. */
function twoStems(): tfl.LayersModel {
  const input = tfl.input({ shape: [7, 7, 3], name: 'img' });
  const init = (k: number) => tfl.initializers.heNormal({ seed: 70 + k });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_a', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', name: 'stem_b', kernelInitializer: init(2), biasInitializer: tfl.initializers.constant({ value: 0.1 }) }).apply(input) as tfl.SymbolicTensor;
  const c = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', name: 'inner', kernelInitializer: init(3) }).apply(a) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate({ name: 'join' }).apply([b, c]) as tfl.SymbolicTensor;
  const out = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(joined) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: 'two_stems' });
}

async function rewritten(model: tfl.LayersModel): Promise<{ copy: tfl.LayersModel; turned: number }> {
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as unknown;
  const turned = rewriteInputConvs(topology);
  const copy = await tfl.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] });
  copy.setWeights(model.getWeights());
  return { copy, turned };
}

/** Loss value, weight gradients and the input-gradient convolutions (output shaped like the images) of one backward pass. */
async function backward(model: tfl.LayersModel, x: tf.Tensor4D) {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
  const profile = await tf.profile(() => {
    result = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
    return [result.value, ...Object.values(result.grads)];
  });
  const imageGradients = profile.kernels.filter((k) => k.name === 'Conv2DBackpropInput' && k.outputShapes[0].join('x') === x.shape.join('x')).length;
  return { value: result!.value, grads: vars.map((v) => result!.grads[v.name]), imageGradients };
}

test('rewriteInputConvs turns exactly the convs that read the model input', async (t) => {
  const model = twoStems();
  const { copy, turned } = await rewritten(model);
  t.is(turned, 2);
  t.deepEqual(
    copy.layers.filter((l) => l.name !== 'img').map((l) => `${l.name}:${l.getClassName()}`),
    ['stem_a:MocoInputConv2D', 'stem_b:MocoInputConv2D', 'inner:Conv2D', 'join:Concatenate', 'gap:GlobalAveragePooling2D'],
  );
  // Sequential topologies are left alone (the trainer's copies are functional).
  t.is(rewriteInputConvs(JSON.parse(JSON.stringify(tinyBackbone().toJSON(null, false)))), 0);
  model.dispose();
  copy.dispose();
});

test('the rewritten convs give the same outputs and weight gradients, without computing the images\' gradient', async (t) => {
  const model = twoStems();
  const { copy } = await rewritten(model);
  const x = tf.randomUniform([3, 7, 7, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const before = await backward(model, x);
  const after = await backward(copy, x);
  t.true(Math.abs(before.value.dataSync()[0] - after.value.dataSync()[0]) < 1e-5);
  before.grads.forEach((g, i) => t.true(maxAbsDiff(g, after.grads[i]) < 1e-5, `gradient ${i}`));
  // stem_a (linear) runs the fused conv, whose custom gradient computes its input's gradient too; stem_b
  // (ReLU) tfjs already runs unfused under a gradient tape. After the rewrite neither computes it.
  t.is(before.imageGradients, 1);
  t.is(after.imageGradients, 0);
  tf.dispose([x, before.value, after.value, ...before.grads, ...after.grads]);
  model.dispose();
  copy.dispose();
});

test('the trainer\'s query encoder reads its images through InputConv2D; the exported encoder keeps Conv2D', async (t) => {
  const backbone = tinyBackbone(8, 1, 4, 'tiny', 3);
  const moco = createMoco({ backbone, plugins: builtinPlugins, config: { seed: 3, head: { dim: 8 }, dictionary: { size: 16 } } });
  await moco.fit(randomImages(8, 8, 1, 3), { epochs: 1, batchSize: 8 });
  t.is(moco.queryEncoder!.getLayer('tiny_c1').getClassName(), 'MocoInputConv2D');
  t.is(moco.queryEncoder!.getLayer('tiny_c2').getClassName(), 'Conv2D');
  t.is(moco.exportEncoder().getLayer('tiny_c1').getClassName(), 'Conv2D');
  moco.dispose();
});
