// q·Kᵀ against a store of keys: the values and the gradient to q against a float64 loop, on cpu and on wasm,
// where the forward is one kernel of the library's (the conv loop, then a blocked transpose).
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients (tf.sum's among them)
import { similarityToKeys } from '../../src/math/similarity-to-keys.js';
import { SIMILARITY_TO_KEYS_KERNEL } from '../../src/kernels/similarity-to-keys-kernel.js';
import { registerWasmTrainingKernels } from '../../src/kernels/wasm-training-kernels.js';
import { seededValues } from '../kernels/harness.js';

/** out[i][j] = Σ_k a[i][k]·b[j][k] in float64 ([n,d] · [m,d]ᵀ). */
function productWithTransposed(a: Float32Array, b: Float32Array, n: number, m: number, d: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
    out[i * m + j] = s;
  }
  return out;
}

function maxError(got: ArrayLike<number>, want: Float64Array): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return got.length === want.length ? e : Infinity;
}

// MoCo's size (64 queries, K 4096, d 128) and one off every multiple of 4 and 8 (transpose edges, padded channels).
const SHAPES: Array<[n: number, m: number, d: number]> = [[64, 4096, 128], [6, 13, 5]];

for (const [backend, inPlace] of [['cpu', true], ['wasm', true], ['wasm', false]] as const) {
  for (const [n, m, d] of SHAPES) {
    test.serial(`${backend}${inPlace ? '' : ' (no heap arena)'}: q·Kᵀ and dq = ∂s·K match float64 at n ${n}, K ${m}, d ${d}`, async (t) => {
      await tf.setBackend(backend);
      if (backend === 'wasm') registerWasmTrainingKernels({ simdInPlace: inPlace });
      t.teardown(() => registerWasmTrainingKernels());
      const qv = seededValues(n * d, 1);
      const kv = seededValues(m * d, 2);
      const dyv = seededValues(n * m, 3);
      const q = tf.tensor2d(qv, [n, d]);
      const keys = tf.tensor2d(kv, [m, d]);
      const dy = tf.tensor2d(dyv, [n, m]);
      const before = tf.memory().numTensors;
      let s: tf.Tensor | undefined;
      const profile = await tf.profile(() => {
        s = tf.keep(similarityToKeys(q, keys));
      });
      const names = profile.kernels.map((k) => k.name);
      t.is(names.includes(SIMILARITY_TO_KEYS_KERNEL), backend === 'wasm', names.join(','));
      if (backend === 'wasm') t.false(names.includes('Transpose'), names.join(','));
      t.deepEqual(s!.shape, [n, m]);
      // Float32 sums of d products of values in [-0.5, 0.5]: a few ulps of d/4.
      t.true(maxError(s!.dataSync(), productWithTransposed(qv, kv, n, m, d)) < 1e-6 * d, 'forward');
      const dq = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(similarityToKeys(x as tf.Tensor2D, keys), dy)))(q);
      // dq = ∂s·K: [n,m]·[m,d], i.e. ∂s · (Kᵀ)ᵀ.
      const kt = new Float32Array(d * m);
      for (let j = 0; j < m; j++) for (let k = 0; k < d; k++) kt[k * m + j] = kv[j * d + k];
      t.true(maxError(dq.dataSync(), productWithTransposed(dyv, kt, n, d, m)) < 1e-6 * m, 'gradient');
      tf.dispose([s!, dq]);
      t.is(tf.memory().numTensors, before, 'no tensor left behind');
      tf.dispose([q, keys, dy]);
    });
  }
}
