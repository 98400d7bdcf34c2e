// The fused momentum update against the op-by-op form it replaces, on cpu and wasm: the same bits, one kernel
// dispatch for all weights, no tensors left behind.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { emaUpdate, fusedEmaAvailable, FUSED_EMA_KERNEL } from '../../src/kernels/fused-ema.js';
import { registerWasmTrainingKernels } from '../../src/kernels/wasm-training-kernels.js';
import { seededValues } from './harness.js';

// Shapes of a conv kernel, a BatchNorm vector and a length off the SIMD width of 4 (the scalar tail).
const SHAPES: number[][] = [[3, 3, 4, 8], [8], [7]];

function makePairs(seed: number) {
  return SHAPES.map((shape, i) => {
    const n = tf.util.sizeFromShape(shape);
    return {
      key: tf.variable(tf.tensor(seededValues(n, seed + 2 * i), shape), false),
      query: tf.variable(tf.tensor(seededValues(n, seed + 2 * i + 1), shape)),
    };
  });
}

// wasm with the SIMD module in its heap, and without (the float32 loop a build with no reachable Memory runs).
for (const [backend, inPlace] of [['cpu', true], ['wasm', true], ['wasm', false]] as const) {
  test.serial(`${backend}${inPlace ? '' : ' (no SIMD heap)'}: one kernel call updates every key weight to exactly m·key + (1−m)·query`, async (t) => {
    await tf.setBackend(backend);
    if (backend === 'wasm') registerWasmTrainingKernels({ simdInPlace: inPlace });
    t.teardown(() => registerWasmTrainingKernels());
    t.true(fusedEmaAvailable());
    const fused = makePairs(10);
    const reference = makePairs(10);
    const m = 0.999;
    const profile = await tf.profile(() => emaUpdate(fused, m));
    const names = profile.kernels.map((k) => k.name);
    t.is(names.filter((n) => n === FUSED_EMA_KERNEL).length, 1);
    t.false(names.includes('Multiply'), names.join(','));
    // The op-by-op update it replaces, on the same backend.
    tf.tidy(() => {
      const keep = tf.scalar(m);
      const take = tf.scalar(1 - m);
      for (const p of reference) p.key.assign(tf.add(tf.mul(p.key, keep), tf.mul(p.query, take)));
    });
    fused.forEach((p, i) => {
      t.deepEqual(p.key.shape, SHAPES[i]);
      t.deepEqual(Array.from(p.key.dataSync()), Array.from(reference[i].key.dataSync()), `pair ${i}: same bits`);
    });
    // And by hand for the first element: key 1 step towards the query.
    const k0 = tf.tensor(seededValues(72, 10)).dataSync()[0];
    const q0 = tf.tensor(seededValues(72, 11)).dataSync()[0];
    t.true(Math.abs(fused[0].key.dataSync()[0] - (m * k0 + (1 - m) * q0)) < 1e-6);
    // No tensor left behind over repeated updates.
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) emaUpdate(fused, m);
    t.is(tf.memory().numTensors, before);
    tf.dispose([...fused, ...reference].flatMap((p) => [p.key, p.query]));
  });
}

test('a backend the library has no kernel for keeps the op-by-op update', (t) => {
  t.false(fusedEmaAvailable('webgl'));
});
