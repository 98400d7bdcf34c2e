import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../helpers/tf.js';
import { resnet18Cifar } from '../../src/models/resnet-cifar.js';
import { countMacs, countParams } from '../../src/models/model-stats.js';

test.before(async () => {
  await useCpu();
});

/** Trainable parameters and MACs of a CIFAR ResNet with BasicBlocks, derived from the architecture. */
function expected(width: number, blocks = [2, 2, 2, 2], inChannels = 3, size = 32) {
  let params = 9 * inChannels * width + 2 * width; // stem conv + BN
  let macs = size * size * 9 * inChannels * width;
  let prev = width;
  let bnChannels = width;
  for (let s = 0; s < 4; s++) {
    const w = width * 2 ** s;
    const hw = (size / 2 ** s) ** 2;
    for (let b = 0; b < blocks[s]; b++) {
      const cin = b === 0 ? prev : w;
      params += 9 * cin * w + 2 * w + 9 * w * w + 2 * w;
      macs += hw * 9 * cin * w + hw * 9 * w * w;
      bnChannels += 2 * w;
      if (b === 0 && (s > 0 || cin !== w)) {
        params += cin * w + 2 * w; // 1×1 projection + BN
        macs += hw * cin * w;
        bnChannels += w;
      }
    }
    prev = w;
  }
  return { params, macs, runningStats: 2 * bnChannels };
}

test.serial('ResNet-18 at width 64: 11,168,832 trainable parameters without fc, as PyTorch counts', (t) => {
  const before = tf.memory().numTensors;
  const model = resnet18Cifar({ seed: 1 });
  const e = expected(64);
  const p = countParams(model);
  t.is(p.trainable, e.params);
  t.is(p.trainable, 11_168_832); // kuangliu/pytorch-cifar ResNet18: 11,173,962 including the 5,130-weight fc
  t.true(Math.abs(p.trainable - 11.17e6) < 0.1e6);
  t.is(p.nonTrainable, e.runningStats);
  t.is(countMacs(model), e.macs);
  t.is(e.macs, 555_417_600);
  t.deepEqual(model.outputs[0].shape, [null, 512]);
  t.deepEqual(model.inputs[0].shape, [null, 32, 32, 3]);
  model.dispose();
  t.is(tf.memory().numTensors, before);
});

test.serial('ResNet-18 at width 16: ~0.7 M parameters, stage layout and a forward pass', (t) => {
  const before = tf.memory().numTensors;
  const model = resnet18Cifar({ width: 16, seed: 2 });
  t.is(countParams(model).trainable, expected(16).params);
  t.is(countParams(model).trainable, 700_176);
  t.is(countMacs(model), expected(16).macs);
  const names = model.layers.map((l) => l.name);
  for (let s = 1; s <= 4; s++) for (const b of [0, 1]) t.true(names.includes(`layer${s}_${b}_conv2`));
  t.deepEqual(names.filter((n) => n.endsWith('_shortcut_conv')), ['layer2_0_shortcut_conv', 'layer3_0_shortcut_conv', 'layer4_0_shortcut_conv']);
  t.false(model.layers.some((l) => l.getClassName() === 'MaxPooling2D'));
  const spatial = ['layer1_1_relu2', 'layer2_1_relu2', 'layer3_1_relu2', 'layer4_1_relu2'].map((n) => model.getLayer(n).outputShape);
  t.deepEqual(spatial, [
    [null, 32, 32, 16],
    [null, 16, 16, 32],
    [null, 8, 8, 64],
    [null, 4, 4, 128],
  ]);
  const y = tf.tidy(() => model.apply(tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 4), { training: false }) as tf.Tensor);
  t.deepEqual(y.shape, [1, 128]);
  t.true(Array.from(y.dataSync()).every(Number.isFinite));
  y.dispose();
  model.dispose();
  t.is(tf.memory().numTensors, before);
});
