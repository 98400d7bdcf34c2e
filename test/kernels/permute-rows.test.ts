// permuteRows (Shuffle BN's shuffle and unshuffle) against tf.gather, on cpu and wasm: the same values, one
// kernel call, no host read on wasm, its gradient the inverse permutation, no tensors left behind.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // registers tfjs's gradients
import { permuteRows, permuteRowsKernelAvailable, PERMUTE_ROWS_KERNEL } from '../../src/kernels/permute-rows.js';
import { Random } from '../../src/random/random.js';
import { seededValues } from './harness.js';

const PERM = [3, 0, 4, 1, 2];

for (const backend of ['cpu', 'wasm'] as const) {
  test.serial(`${backend}: rows in the permuted order, as tf.gather gives them, in one kernel call`, async (t) => {
    await tf.setBackend(backend);
    t.true(permuteRowsKernelAvailable());
    const x = tf.tensor4d(seededValues(5 * 3 * 2 * 2, 1), [5, 3, 2, 2]);
    const ids = tf.tensor2d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [5, 2], 'int32');
    const backendReads = tf.backend() as tf.KernelBackend & { readSync: (id: object) => unknown };
    const readSync = backendReads.readSync.bind(backendReads);
    let reads = 0;
    backendReads.readSync = (id: object) => {
      reads++;
      return readSync(id);
    };
    let y: tf.Tensor4D | undefined;
    let yi: tf.Tensor2D | undefined;
    const profile = await tf.profile(() => {
      y = tf.keep(permuteRows(x, PERM));
      yi = tf.keep(permuteRows(ids, Int32Array.from(PERM)));
    });
    backendReads.readSync = readSync;
    if (backend === 'wasm') t.is(reads, 0, 'no host read on wasm');
    t.deepEqual(profile.kernels.map((k) => k.name).filter((n) => !n.endsWith('__op')), [PERMUTE_ROWS_KERNEL, PERMUTE_ROWS_KERNEL]);
    t.deepEqual(Array.from(y!.dataSync()), Array.from(tf.gather(x, PERM).dataSync()));
    t.deepEqual(Array.from(yi!.dataSync()), [6, 7, 0, 1, 8, 9, 2, 3, 4, 5]);
    t.is(yi!.dtype, 'int32');
    // Shuffle then unshuffle is the identity; the gradient of the shuffle is the unshuffle of ∂y.
    t.deepEqual(Array.from(permuteRows(y!, Array.from(Random.inverse(Int32Array.from(PERM)))).dataSync()), Array.from(x.dataSync()));
    const dy = tf.tensor4d(seededValues(x.size, 2), x.shape);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(permuteRows(v, PERM), dy)))(x);
    t.deepEqual(Array.from(dx.dataSync()), Array.from(tf.gather(dy, Array.from(Random.inverse(Int32Array.from(PERM)))).dataSync()));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) permuteRows(x, PERM).dispose();
    t.is(tf.memory().numTensors, before);
    tf.dispose([x, ids, y!, yi!, dy, dx]);
  });
}

test.serial('perm must be a permutation of the rows: the error says which and what it got', async (t) => {
  await tf.setBackend('cpu');
  const x = tf.zeros([3, 2]);
  t.throws(() => permuteRows(x, [0, 1]), { message: /permuteRows: perm must be a permutation of 0 … 2 \(one entry per row of x\), got \[0, 1\] of length 2/ });
  t.throws(() => permuteRows(x, [0, 1, 1]), { message: /got \[0, 1, 1\]/ });
  t.throws(() => permuteRows(x, [0, 1, 3]), { message: /permutation of 0 … 2/ });
  x.dispose();
});

test.serial('a backend the library has no kernel for takes tf.gather, with the same values', async (t) => {
  // The cpu backend under another name with tfjs's cpu kernels only, as webgl or webgpu: no MocoPermuteRows.
  const name = 'cpu-without-moco-kernels-permute';
  if (tf.findBackendFactory(name) == null) {
    tf.registerBackend(name, () => new (tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend)());
    for (const k of tf.getKernelsForBackend('cpu')) if (!k.kernelName.startsWith('Moco')) tf.registerKernel({ ...k, backendName: name });
  }
  await tf.setBackend(name);
  t.false(permuteRowsKernelAvailable());
  const x = tf.tensor2d(seededValues(10, 3), [5, 2]);
  const profile = await tf.profile(() => permuteRows(x, PERM).dispose());
  t.true(profile.kernels.some((k) => k.name === 'GatherV2'));
  t.deepEqual(Array.from(permuteRows(x, PERM).dataSync()), Array.from(tf.gather(x, PERM).dataSync()));
  await tf.setBackend('cpu');
});
