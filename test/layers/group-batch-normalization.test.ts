import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { maxAbsDiff } from '../helpers/tf.js';
import { GroupBatchNormalization } from '../../src/index.js';

// Every test runs on cpu and on wasm: the layer's reductions and per-channel maps take different
// kernels there (pooling and depthwise convolutions, see src/layers/channel-ops.ts).
const BACKENDS = ['cpu', 'wasm'] as const;

async function on(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
}

const SHAPE = [12, 5, 3, 4]; // N, H, W, C: odd spatial sizes
const EPS = 1e-3;

/** Frees a layer's variables (a layer applied only to concrete tensors cannot be dispose()d). */
function disposeWeights(layer: tfl.layers.Layer): void {
  for (const v of layer.weights) v.dispose();
}

/** gamma and beta set to non-trivial values, the same in both layers. */
function withWeights(layer: tfl.layers.Layer, seed: number): void {
  layer.build(SHAPE);
  const [, , mm, mv] = layer.getWeights();
  layer.setWeights([tf.randomUniform([4], 0.5, 1.5, 'float32', seed), tf.randomUniform([4], -0.5, 0.5, 'float32', seed + 1), mm, mv]);
}

/** y, and the gradients of Σ y·w with respect to x, gamma and beta, in training mode. */
function forwardBackward(layer: tfl.layers.Layer, x: tf.Tensor, w: tf.Tensor) {
  const [gamma, beta] = layer.trainableWeights.map((v) => v.read());
  const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    layer.trainableWeights[0].write(g);
    layer.trainableWeights[1].write(b);
    return tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, w));
  };
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const [dx, dgamma, dbeta] = tf.grads((xx, g, b) => f(xx, g, b))([x, gamma, beta]);
  return { y, dx, dgamma, dbeta };
}

/** The textbook BatchNorm per group, differentiated op by op by tfjs: the reference for the hand-written gradient. */
function referenceGroupBn(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups: number): tf.Tensor {
  const parts = tf.split(x, groups, 0).map((p) => {
    const { mean, variance } = tf.moments(p, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(p, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta);
  });
  return tf.concat(parts, 0);
}

for (const backend of BACKENDS) {
  test.serial(`${backend}: one group: output, gradients and moving statistics equal the stock BatchNormalization layer`, async (t) => {
    await on(backend);
    const x = tf.randomNormal(SHAPE, 2, 3, 'float32', 1);
    const w = tf.randomNormal(SHAPE, 0, 1, 'float32', 2);
    const stock = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: EPS });
    const ours = new GroupBatchNormalization({ groups: 1, momentum: 0.9, epsilon: EPS });
    withWeights(stock, 3);
    withWeights(ours, 3);
    const a = forwardBackward(stock, x, w);
    const b = forwardBackward(ours, x, w);
    t.true(maxAbsDiff(a.y, b.y) < 1e-5, `y ${maxAbsDiff(a.y, b.y)}`);
    t.true(maxAbsDiff(a.dx, b.dx) < 1e-5, `dx ${maxAbsDiff(a.dx, b.dx)}`);
    t.true(maxAbsDiff(a.dgamma, b.dgamma) < 1e-4, `dgamma ${maxAbsDiff(a.dgamma, b.dgamma)}`);
    t.true(maxAbsDiff(a.dbeta, b.dbeta) < 1e-4, `dbeta ${maxAbsDiff(a.dbeta, b.dbeta)}`);
    // dx is not trivially small: the check above compares real numbers
    t.true(tf.max(tf.abs(a.dx)).dataSync()[0] > 0.05);
    // same moving statistics after the same training calls (two per forwardBackward: one y, one inside grads)
    const [, , mmA, mvA] = stock.getWeights();
    const [, , mmB, mvB] = ours.getWeights();
    t.true(maxAbsDiff(mmA, mmB) < 1e-5);
    t.true(maxAbsDiff(mvA, mvB) < 1e-4);
    t.true(maxAbsDiff(mmA, tf.zeros([4])) > 0.1, 'the moving mean moved');
    tf.dispose([x, w, ...Object.values(a), ...Object.values(b)]);
    disposeWeights(stock);
    disposeWeights(ours);
  });

  test.serial(`${backend}: four groups: the hand-written gradient equals autodiff of per-group BatchNorm`, async (t) => {
    await on(backend);
    const x = tf.randomNormal(SHAPE, -1, 2, 'float32', 4);
    const w = tf.randomNormal(SHAPE, 0, 1, 'float32', 5);
    const ours = new GroupBatchNormalization({ groups: 4, epsilon: EPS });
    withWeights(ours, 6);
    const [gamma, beta] = ours.getWeights();
    const b = forwardBackward(ours, x, w);
    const yRef = referenceGroupBn(x, gamma, beta, 4);
    const [dx, dgamma, dbeta] = tf.grads((xx, g, bb) => tf.sum(tf.mul(referenceGroupBn(xx, g, bb, 4), w)))([x, gamma, beta]);
    t.true(maxAbsDiff(yRef, b.y) < 1e-5);
    t.true(maxAbsDiff(dx, b.dx) < 1e-5, `dx ${maxAbsDiff(dx, b.dx)}`);
    t.true(maxAbsDiff(dgamma, b.dgamma) < 1e-4);
    t.true(maxAbsDiff(dbeta, b.dbeta) < 1e-4);
    // per-group statistics differ from whole-batch ones: the gradient is not plain BN's
    const plain = new GroupBatchNormalization({ groups: 1, epsilon: EPS });
    withWeights(plain, 6);
    const p = forwardBackward(plain, x, w);
    t.true(maxAbsDiff(p.dx, b.dx) > 1e-3);
    tf.dispose([x, w, yRef, dx, dgamma, dbeta, ...Object.values(b), ...Object.values(p)]);
    disposeWeights(ours);
    disposeWeights(plain);
  });

  test.serial(`${backend}: a training call with gradients leaves no tensor behind`, async (t) => {
    await on(backend);
    const layer = new GroupBatchNormalization({ groups: 2 });
    withWeights(layer, 7);
    const x = tf.randomNormal(SHAPE, 0, 1, 'float32', 8);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    t.is(tf.memory().numTensors, before);
    x.dispose();
    disposeWeights(layer);
  });
}
