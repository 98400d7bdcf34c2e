// The per-group affine kernel against the broadcast ops it replaces in Shuffle BN, on cpu and wasm: the same
// bits, one kernel dispatch, no tensors left behind, errors that name the operand.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { groupAffine, groupAffineKernelAvailable, GROUP_AFFINE_KERNEL } from '../../src/kernels/group-affine.js';
import { registerWasmTrainingKernels } from '../../src/kernels/wasm-training-kernels.js';
import { seededValues } from './harness.js';

const tensor = (shape: number[], seed: number) => tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);

/** (x·s + t) + x2·s2 as tfjs broadcast ops over [G, N/G, ..., C] against [G, 1, ..., 1, C]. */
function broadcastOps(x: tf.Tensor, groups: number, s: tf.Tensor, t: tf.Tensor, x2?: tf.Tensor, s2?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    const grouped = [groups, x.shape[0] / groups, ...x.shape.slice(1)];
    const per = [groups, ...x.shape.slice(1, -1).map(() => 1), 1, c];
    let y = tf.add(tf.mul(tf.reshape(x, grouped), tf.reshape(s, per)), tf.reshape(t, per));
    if (x2 && s2) y = tf.add(y, tf.mul(tf.reshape(x2, grouped), tf.reshape(s2, per)));
    return tf.reshape(y, x.shape);
  });
}

// Channels 7 (the scalar tail after one SIMD vector) and 16 (vectors only); with and without the second term.
const CASES: Array<[label: string, shape: number[], groups: number, second: boolean]> = [
  ['[6,3,5,7], 3 groups, x·s + t', [6, 3, 5, 7], 3, false],
  ['[8,2,2,16], 4 groups, (x·s + t) + x2·s2', [8, 2, 2, 16], 4, true],
  ['[4,3,3,7], 2 groups, (x·s + t) + x2·s2', [4, 3, 3, 7], 2, true],
];

// wasm with the SIMD module in its heap, and without (the float32 loop a build with no reachable Memory runs).
for (const [backend, inPlace] of [['cpu', true], ['wasm', true], ['wasm', false]] as const) {
  for (const [label, shape, groups, second] of CASES) {
    test.serial(`${backend}${inPlace ? '' : ' (no heap arena)'}: one kernel call gives the broadcast ops' exact bits: ${label}`, async (t) => {
      await tf.setBackend(backend);
      if (backend === 'wasm') registerWasmTrainingKernels({ simdInPlace: inPlace });
      t.teardown(() => registerWasmTrainingKernels());
      t.true(groupAffineKernelAvailable());
      const c = shape[shape.length - 1];
      const x = tensor(shape, 1);
      const s = tensor([groups, c], 2);
      const sh = tensor([groups, c], 3);
      const x2 = second ? tensor(shape, 4) : undefined;
      const s2 = second ? tensor([groups, c], 5) : undefined;
      let y: tf.Tensor | undefined;
      const profile = await tf.profile(() => {
        y = tf.keep(groupAffine(x, groups, s, sh, x2 && s2 ? { x: x2, scale: s2 } : undefined));
      });
      const names = profile.kernels.map((k) => k.name);
      t.is(names.filter((n) => n === GROUP_AFFINE_KERNEL).length, 1);
      t.false(names.includes('Multiply') || names.includes('Add'), names.join(','));
      const ref = broadcastOps(x, groups, s, sh, x2, s2);
      t.deepEqual(y!.shape, shape);
      t.deepEqual(Array.from(y!.dataSync()), Array.from(ref.dataSync()), 'same bits');
      // By hand: the last element is in the last group, channel c - 1.
      const i = y!.size - 1;
      const g = groups - 1;
      const at = (v: tf.Tensor, j: number) => v.dataSync()[j];
      const want = at(x, i) * at(s, g * c + c - 1) + at(sh, g * c + c - 1) + (second ? at(x2!, i) * at(s2!, g * c + c - 1) : 0);
      t.true(Math.abs(at(y!, i) - want) < 1e-5, `${at(y!, i)} against ${want}`);
      const before = tf.memory().numTensors;
      for (let k = 0; k < 10; k++) groupAffine(x, groups, s, sh, x2 && s2 ? { x: x2, scale: s2 } : undefined).dispose();
      t.is(tf.memory().numTensors, before);
      tf.dispose([x, s, sh, x2, s2, y, ref].filter((v): v is tf.Tensor => v != null));
    });
  }
}

test.serial('operands of the wrong size are refused, naming the operand and the shape it needs', async (t) => {
  await tf.setBackend('cpu');
  const x = tf.zeros([4, 2, 2, 3]);
  const good = tf.zeros([2, 3]);
  t.throws(() => groupAffine(x, 2, tf.zeros([3]), good), { message: /groupAffine: scale must hold \[groups, C\] = \[2,3\] values, got shape \[3\]/ });
  t.throws(() => groupAffine(x, 2, good, tf.zeros([2, 4])), { message: /shift must hold \[groups, C\] = \[2,3\]/ });
  t.throws(() => groupAffine(x, 3, tf.zeros([3, 3]), tf.zeros([3, 3])), { message: /4 samples do not split into 3 equal groups/ });
  t.throws(() => groupAffine(x, 2, good, good, { x: tf.zeros([4, 2, 2, 2]), scale: good }), { message: /second\.x must have x's shape \[4,2,2,3\]/ });
});

test.serial('a backend the library has no kernel for gets the same bits from broadcast ops', async (t) => {
  // The cpu backend under another name, with tfjs's cpu kernels only: as webgl or webgpu, no MocoGroupAffine.
  const name = 'cpu-without-moco-kernels';
  if (tf.findBackendFactory(name) == null) {
    tf.registerBackend(name, () => new (tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend)());
    for (const k of tf.getKernelsForBackend('cpu')) {
      if (!k.kernelName.startsWith('Moco')) tf.registerKernel({ ...k, backendName: name });
    }
  }
  await tf.setBackend('cpu');
  const args = [tensor([4, 3, 3, 5], 7), tensor([2, 5], 8), tensor([2, 5], 9), tensor([4, 3, 3, 5], 10), tensor([2, 5], 11)];
  const fused = groupAffine(args[0], 2, args[1], args[2], { x: args[3], scale: args[4] }).dataSync();
  const want = broadcastOps(args[0], 2, args[1], args[2], args[3], args[4]).dataSync();
  await tf.setBackend(name);
  t.false(groupAffineKernelAvailable());
  const moved = args.map((v) => tf.tensor(v.dataSync(), v.shape));
  const before = tf.memory().numTensors;
  const y = groupAffine(moved[0], 2, moved[1], moved[2], { x: moved[3], scale: moved[4] });
  t.is(tf.memory().numTensors, before + 1);
  t.deepEqual(Array.from(y.dataSync()), Array.from(want));
  t.deepEqual(Array.from(fused), Array.from(want));
  await tf.setBackend('cpu');
});
