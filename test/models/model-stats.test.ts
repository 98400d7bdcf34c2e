import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useCpu } from '../helpers/tf.js';
import { countMacs, countParams } from '../../src/models/model-stats.js';

test.before(async () => {
  await useCpu();
});

// input 8×8×2
//   conv 3×3, 3 filters, same, stride 1, bias   → 8×8×3: MACs 8·8·3 · 3·3·2 = 3456; params 54 + 3
//   conv 2×2, 4 filters, valid, stride 2, no bias → 4×4×4: MACs 4·4·4 · 2·2·3 = 768;  params 48
//   BN                                           → not counted; params 8 trainable + 8 running stats
//   depthwise 3×3, multiplier 2, same            → 4×4×8: MACs 4·4 · 3·3·4·2 = 1152; params 72 + 8
//   flatten (128) → dense 5                      → MACs 128·5 = 640; params 640 + 5
function handModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 2] });
  let x = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 4, kernelSize: 2, strides: 2, padding: 'valid', useBias: false }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 5 }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

test.serial('countMacs counts conv, depthwise and dense layers as computed by hand', (t) => {
  const model = handModel();
  t.is(countMacs(model), 3456 + 768 + 1152 + 640);
  model.dispose();
});

test.serial('countMacs descends into nested models', (t) => {
  const inner = handModel();
  const input = tfl.input({ shape: [8, 8, 2] });
  const y = inner.apply(input) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 2 }).apply(y) as tfl.SymbolicTensor; // 5·2 = 10 MACs
  const outer = tfl.model({ inputs: input, outputs: head });
  t.is(countMacs(outer), 3456 + 768 + 1152 + 640 + 10);
  outer.dispose();
});

test.serial('countParams separates trainable weights from BN running statistics', (t) => {
  const before = tf.memory().numTensors;
  const model = handModel();
  const trainable = 54 + 3 + 48 + 8 + 72 + 8 + 640 + 5;
  t.deepEqual(countParams(model), { trainable, nonTrainable: 8, total: trainable + 8 });
  t.is(countParams(model).total, model.countParams());
  model.dispose();
  t.is(tf.memory().numTensors, before);
});
