// Replaces the cpu backend's Conv2DBackpropFilter. The stock kernel is a 7-deep loop that reads
// both operands through TensorBuffer.get() (index arithmetic and bounds logic per MAC); it takes
// about 91 % of a conv-net training step on cpu. The replacement computes the same sum as one
// forward Conv2D of the cpu backend (see conv-backprop-as-conv.ts), whose inner loop runs over
// flat typed arrays.
//
// Measured, kernel alone, 3x3 'same', Node 20 on the 2-vCPU VM while other jobs ran (stock vs
// replacement): x [16,32,32,16] 16->16: 11.1 s vs 0.22 s (50x); [8,16,16,16]: 932 vs 17 ms (54x);
// [8,16,16,16] stride 2: 388 vs 10 ms (38x); [4,8,8,16]: 96 vs 2.5 ms (38x). The results differ
// by float32 rounding only (the stock loop accumulates in float64, cpu Conv2D in float32): max
// abs error 2e-3 on the [16,32,32,16] case, whose entries are sums of 16384 products of magnitude
// ~128. test/backend/cpu-training-kernels.test.ts asserts >= 10x.
import * as tf from '@tensorflow/tfjs-core';
// The cpu backend is a required peer of this library and must be registered before its stock
// kernel can be replaced.
import '@tensorflow/tfjs-backend-cpu';
import { conv2dBackpropFilterAsConv, type Conv2DBackpropFilterAttrs } from './conv-backprop-as-conv.js';
import { withKernelScope } from './kernel-scope.js';
import { getStockKernel, replaceKernel, type RegistrationOutcome } from './kernel-registration.js';

const CPU = 'cpu';

type KernelParams = Parameters<tf.KernelFunc>[0];

function conv2DBackpropFilterKernel(params: KernelParams): tf.TensorInfo {
  const { inputs, backend, attrs } = params;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & { dataFormat: 'NHWC' | 'NCHW' };
  if (a.dataFormat === 'NCHW') {
    // Rare in this library (everything is NHWC); the stock kernel handles it, slowly but correctly.
    return stockConv2DBackpropFilter().kernelFunc(params) as tf.TensorInfo;
  }
  return withKernelScope(CPU, backend as tf.KernelBackend, (scope) => conv2dBackpropFilterAsConv(scope, x, dy, a));
}

/** The cpu backend's own Conv2DBackpropFilter (for delegation, tests and benchmarks). */
export function stockConv2DBackpropFilter(): tf.KernelConfig {
  const stock = getStockKernel(tf.Conv2DBackpropFilter, CPU);
  if (stock == null || stock.kernelFunc === conv2DBackpropFilterKernel) {
    throw new Error('tfjs-moco: stock cpu Conv2DBackpropFilter kernel not found');
  }
  return stock;
}

/** Replaces the cpu Conv2DBackpropFilter kernel. Idempotent. */
export function registerCpuTrainingKernels(): Record<string, RegistrationOutcome> {
  return {
    [tf.Conv2DBackpropFilter]: replaceKernel({
      kernelName: tf.Conv2DBackpropFilter,
      backendName: CPU,
      kernelFunc: conv2DBackpropFilterKernel as tf.KernelFunc,
    }),
  };
}
