// The cpu Conv2DBackpropFilter replacement: same values as the stock kernel, at least 10x faster
// where it matters, NCHW delegated to stock, idempotent registration, no leaks.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's gradient functions
import { CPU_REPLACED_KERNELS, registerCpuTrainingKernels, stockConv2DBackpropFilter } from '../../src/kernels/cpu-training-kernels.js';
import { isMocoKernel, restoreStockKernel } from '../../src/kernels/kernel-registration.js';
import { float32Tolerance, maxAbsError, seededValues } from './harness.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

test.before(async () => {
  await tf.setBackend('cpu');
});

/** Runs the stock kernel function directly (it is no longer registered) and returns a tensor. */
function stockDw(x: tf.Tensor, dy: tf.Tensor, attrs: Record<string, unknown>): tf.Tensor {
  const info = stockConv2DBackpropFilter().kernelFunc({
    inputs: { x, dy }, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap,
  }) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

function newDw(x: tf.Tensor, dy: tf.Tensor, attrs: Record<string, unknown>): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as tf.NamedAttrMap) as tf.Tensor;
}

test.serial('registration replaces the stock kernel once and keeps it for comparison', (t) => {
  // The report also lists the elementwise/reduction kernels (see cpu-fast-elementwise.test.ts).
  const all = (outcome: string) => Object.fromEntries(CPU_REPLACED_KERNELS.map((name) => [name, outcome]));
  t.false(isMocoKernel('Conv2DBackpropFilter', 'cpu'));
  t.deepEqual(registerCpuTrainingKernels(), all('replaced'));
  t.deepEqual(registerCpuTrainingKernels(), all('already-registered'));
  t.true(isMocoKernel('Conv2DBackpropFilter', 'cpu'));
  t.not(stockConv2DBackpropFilter(), tf.getKernel('Conv2DBackpropFilter', 'cpu'));
  // restore + re-register round trip
  t.true(restoreStockKernel('Conv2DBackpropFilter', 'cpu'));
  t.false(isMocoKernel('Conv2DBackpropFilter', 'cpu'));
  t.deepEqual(registerCpuTrainingKernels(), { ...all('already-registered'), Conv2DBackpropFilter: 'replaced' });
});

test.serial('matches the stock kernel over strides, pads, odd sizes and filter shapes', (t) => {
  registerCpuTrainingKernels();
  const pads: Pad[] = ['same', 'valid', 1, [[0, 0], [2, 1], [0, 1], [0, 0]]];
  let worst = 0;
  let cases = 0;
  for (const [h, w] of [[7, 7], [9, 8]]) {
    for (const stride of [1, 2]) {
      for (const pad of pads) {
        for (const [fh, fw] of [[3, 3], [1, 1], [2, 3]]) {
          const [n, ci, co] = [3, 2, 4];
          const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], [fh, fw, ci, co], stride, 1, pad);
          const x = tf.tensor4d(seededValues(n * h * w * ci, 1), [n, h, w, ci]);
          const dy = tf.tensor(seededValues(tf.util.sizeFromShape(info.outShape), 2), info.outShape);
          const attrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape: [fh, fw, ci, co] };
          const ref = stockDw(x, dy, attrs);
          const got = newDw(x, dy, attrs);
          t.deepEqual(got.shape, ref.shape);
          const refValues = ref.dataSync();
          const err = maxAbsError(got.dataSync(), refValues);
          const label = `${h}x${w} s${stride} ${JSON.stringify(pad)} ${fh}x${fw}`;
          t.true(err <= float32Tolerance(refValues, n * info.outHeight * info.outWidth), `${label}: error ${err}`);
          worst = Math.max(worst, err);
          cases++;
          tf.dispose([x, dy, ref, got]);
        }
      }
    }
  }
  t.log(`cpu Conv2DBackpropFilter: max abs error ${worst.toExponential(2)} over ${cases} cases`);
});

test.serial('NCHW is delegated to the stock kernel', (t) => {
  registerCpuTrainingKernels();
  const x = tf.tensor4d(seededValues(2 * 3 * 6 * 5, 3), [2, 3, 6, 5]);
  const dy = tf.tensor4d(seededValues(2 * 4 * 6 * 5, 4), [2, 4, 6, 5]);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] };
  const ref = stockDw(x, dy, attrs);
  const got = newDw(x, dy, attrs);
  t.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()));
  tf.dispose([x, dy, ref, got]);
});

test.serial('no tensor or buffer leak over repeated conv gradients', (t) => {
  registerCpuTrainingKernels();
  const x = tf.tensor4d(seededValues(2 * 9 * 9 * 3, 5), [2, 9, 9, 3]);
  const w = tf.variable(tf.tensor4d(seededValues(3 * 3 * 3 * 4, 6), [3, 3, 3, 4]));
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 2, 'same'))), [w]);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const tensors = tf.memory().numTensors;
  const dataIds = tf.backend().numDataIds();
  for (let i = 0; i < 20; i++) step();
  t.is(tf.memory().numTensors, tensors);
  t.is(tf.backend().numDataIds(), dataIds);
  tf.dispose([x, w]);
});

test.serial('is at least 10x faster than the stock kernel on x [8,16,16,16], 3x3, 16->16', (t) => {
  registerCpuTrainingKernels();
  const x = tf.tensor4d(seededValues(8 * 16 * 16 * 16, 7), [8, 16, 16, 16]);
  const dy = tf.tensor4d(seededValues(8 * 16 * 16 * 16, 8), [8, 16, 16, 16]);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 16] };
  const timeOf = (f: () => tf.Tensor): { ms: number; out: tf.Tensor } => {
    const t0 = performance.now();
    const out = f();
    out.dataSync();
    return { ms: performance.now() - t0, out };
  };
  newDw(x, dy, attrs).dispose(); // warm-up (JIT)
  const fastRuns = [0, 1, 2].map(() => timeOf(() => newDw(x, dy, attrs)));
  const fast = fastRuns.map((r) => r.ms);
  const fastOut = fastRuns[0].out;
  // The stock kernel takes about 0.5-1 s here, so it runs once (the VM noise is far below 10x).
  const stock = timeOf(() => stockDw(x, dy, attrs));
  const fastMs = fast.sort((a, b) => a - b)[1];
  const ratio = stock.ms / fastMs;
  t.log(`stock ${stock.ms.toFixed(0)} ms, replacement ${fastMs.toFixed(1)} ms (median of 3): ${ratio.toFixed(1)}x`);
  t.true(ratio >= 10, `speedup only ${ratio.toFixed(1)}x`);
  const err = maxAbsError(fastOut.dataSync(), stock.out.dataSync());
  t.true(err <= float32Tolerance(stock.out.dataSync(), 8 * 16 * 16), `error ${err}`);
  tf.dispose([x, dy, stock.out, ...fastRuns.map((r) => r.out)]);
});

test.serial('TensorScatterUpdate leaves its input and the input\'s clones unchanged (the stock cpu kernel writes into them)', (t) => {
  const rows = () => tf.tensor2d([[1], [3]], [2, 1], 'int32');
  const updates = () => tf.tensor2d([[7, 7], [9, 9]]);
  // The stock kernel, as tfjs 4.22 ships it: the held clone changes.
  restoreStockKernel('TensorScatterUpdate', 'cpu');
  const v0 = tf.zeros([4, 2]);
  const held0 = tf.clone(v0);
  tf.tensorScatterUpdate(v0, rows(), updates());
  t.deepEqual(held0.arraySync(), [[0, 0], [7, 7], [0, 0], [9, 9]], 'stock: the input was written in place');
  // The library's kernel: the result is the scatter, the input and its clone keep their values.
  registerCpuTrainingKernels();
  t.true(isMocoKernel('TensorScatterUpdate', 'cpu'));
  const v = tf.zeros([4, 2]);
  const held = tf.clone(v);
  const out = tf.tensorScatterUpdate(v, rows(), updates());
  t.deepEqual(out.arraySync(), [[0, 0], [7, 7], [0, 0], [9, 9]]);
  t.deepEqual(held.arraySync(), [[0, 0], [0, 0], [0, 0], [0, 0]]);
  t.deepEqual(v.arraySync(), [[0, 0], [0, 0], [0, 0], [0, 0]]);
});
