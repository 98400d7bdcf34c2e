// registerWasmTrainingKernels() before the wasm package is loaded (or when it is not installed):
// it must not throw, must register the missing kernels ahead of the package without clashing
// with the package's own registrations, and must apply the Conv2DBackpropInput replacement when
// called again after the package is loaded. The wasm package is imported dynamically, so this
// file's process has not loaded it when the first test runs.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isMocoKernel } from '../../src/kernels/kernel-registration.js';
import { missingTrainingKernels } from '../../src/kernels/training-kernels.js';
import { registerWasmTrainingKernels } from '../../src/kernels/wasm-training-kernels.js';

test.serial('registering before the wasm package is loaded', async (t) => {
  t.true(tf.findBackendFactory('wasm') == null);
  const report = registerWasmTrainingKernels();
  t.deepEqual(report, {
    Conv2DBackpropFilter: 'registered',
    DepthwiseConv2dNativeBackpropFilter: 'registered',
    DepthwiseConv2dNativeBackpropInput: 'registered',
    UnsortedSegmentSum: 'registered',
    Conv2DBackpropInput: 'no-stock-kernel',
    Identity: 'no-stock-kernel',
    Conv2D: 'no-stock-kernel',
    FusedConv2D: 'no-stock-kernel',
  });

  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } finally {
    console.warn = warn;
  }
  t.deepEqual(warnings.filter((w) => w.includes('already registered')), []);

  const late = registerWasmTrainingKernels();
  t.is(late.Conv2DBackpropInput, 'replaced');
  t.is(late.Identity, 'replaced');
  t.is(late.Conv2D, 'replaced');
  t.is(late.FusedConv2D, 'replaced');
  t.true(isMocoKernel('Conv2DBackpropInput', 'wasm'));
  t.deepEqual(missingTrainingKernels('wasm'), []);
});

test.serial('the late replacement works once the backend initializes', async (t) => {
  // The stock kernel's setupFunc (which binds its C++ entry point) is chained into the
  // replacement's, so the stock path works too after setBackend.
  t.true(await tf.setBackend('wasm'));
  const dy = tf.ones([1, 3, 3, 2]);
  const filter = tf.ones([3, 3, 1, 2]);
  const dx = tf.engine().runKernel(
    'Conv2DBackpropInput', { dy, filter }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 3, 3, 1] },
  ) as tf.Tensor;
  // Each input pixel receives 2 channels x (number of output pixels whose window covers it).
  t.deepEqual(Array.from(await dx.data()), [8, 12, 8, 12, 18, 12, 8, 12, 8]);
  // The replaced forward conv, on the SIMD loops and (a dilated call) on the stock kernel.
  const x = tf.ones([1, 3, 3, 1]);
  const y = tf.conv2d(x as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
  t.deepEqual(Array.from(await y.data()), [4, 6, 4, 6, 9, 6, 4, 6, 4]);
  const yd = tf.conv2d(x as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'valid', 'NHWC', 2);
  t.deepEqual(Array.from(await yd.data()), [4]);
  tf.dispose([dy, filter, dx, x, y, yd]);
});
