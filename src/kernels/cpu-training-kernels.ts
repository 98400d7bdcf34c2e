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
//
// It also replaces the broadcasting binary kernels (Add, Sub, Multiply, RealDiv, Maximum, Minimum,
// SquaredDifference; cpu-fast-elementwise.ts) and Sum/Mean (cpu-fast-reduce.ts), which together
// took most of a BatchNorm conv net's training step once dW was fast. Same values, bit for bit.
// Measured, kernel alone, medians of alternating stock/new runs on the same loaded VM (stock vs
// replacement; the stock times swing with how polymorphic its shared template loop has become):
// [32,16,16,16] op [1,1,1,16] or op [32,1,1,16]: 34-180 ms vs 0.5-0.8 ms (50-300x); op [16]
// (stock's `i % length` path): 1.6-55 ms vs 0.4-0.8 ms (4.4-90x); same shape: 1.9-7.6 ms vs
// 0.45-0.6 ms (3-14x); Sum/Mean of [32,16,16,16] over [0,1,2] or [1,2]: 10-84 ms vs 0.3-0.6 ms
// (29-240x). One MoCo trainStep of tinyBackbone(16, 1, 8), batch 32, cpu (interleaved medians of
// 16-20 steps, two runs): Shuffle BN (groups 4) 671-877 -> 326-366 ms (2.1-2.4x), plain batchnorm
// 716-849 -> 217-345 ms (2.5-3.3x). Tile (BatchNorm's gradient) is the next stock hot spot.
// test/backend/cpu-fast-elementwise.test.ts asserts >= 5x (>= 3x for op [16]).
import * as tf from '@tensorflow/tfjs-core';
// The cpu backend is a required peer of this library and must be registered before its stock
// kernel can be replaced.
import '@tensorflow/tfjs-backend-cpu';
import { conv2dBackpropFilterAsConv, type Conv2DBackpropFilterAttrs } from './conv-backprop-as-conv.js';
import { CPU_FAST_ELEMENTWISE_KERNELS } from './cpu-fast-elementwise.js';
import { CPU_FAST_REDUCE_KERNELS } from './cpu-fast-reduce.js';
import { withKernelScope } from './kernel-scope.js';
import { getStockKernel, replaceKernel, requireStockKernel, type RegistrationOutcome } from './kernel-registration.js';

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

/**
 * TensorScatterUpdate that leaves its input alone. The stock cpu kernel scatters into the input tensor's own
 * storage and returns a tensor sharing it, so every other holder of the input (a clone, a tensor saved for
 * a gradient) sees the update: tfjs 4.22, `tf.tensorScatterUpdate(v, …)` changes `tf.clone(v)`. The queue
 * dictionary enqueues with this kernel. Here the stock kernel gets a copy (one memcpy of the input).
 */
function tensorScatterUpdateKernel(params: KernelParams): tf.TensorInfo {
  const { inputs, backend } = params;
  const { tensor } = inputs as { tensor: tf.TensorInfo };
  const cpu = backend as tf.KernelBackend & { makeTensorInfo(shape: number[], dtype: tf.DataType, values: unknown): tf.TensorInfo };
  const copy = cpu.makeTensorInfo([...tensor.shape], tensor.dtype, (cpu.readSync(tensor.dataId) as tf.TypedArray).slice());
  try {
    return requireStockKernel(tf.TensorScatterUpdate, CPU).kernelFunc({ ...params, inputs: { ...inputs, tensor: copy } }) as tf.TensorInfo;
  } finally {
    cpu.disposeData(copy.dataId);
  }
}

const TENSOR_SCATTER_UPDATE: tf.KernelConfig = {
  kernelName: tf.TensorScatterUpdate,
  backendName: CPU,
  kernelFunc: tensorScatterUpdateKernel as tf.KernelFunc,
};

/**
 * Replaces the cpu Conv2DBackpropFilter kernel and the elementwise/reduction kernels listed in
 * CPU_FAST_ELEMENTWISE_KERNELS and CPU_FAST_REDUCE_KERNELS. Idempotent. Returns kernel name ->
 * outcome.
 */
export function registerCpuTrainingKernels(): Record<string, RegistrationOutcome> {
  const report: Record<string, RegistrationOutcome> = {
    [tf.Conv2DBackpropFilter]: replaceKernel({
      kernelName: tf.Conv2DBackpropFilter,
      backendName: CPU,
      kernelFunc: conv2DBackpropFilterKernel as tf.KernelFunc,
    }),
  };
  for (const config of [...CPU_FAST_ELEMENTWISE_KERNELS, ...CPU_FAST_REDUCE_KERNELS, TENSOR_SCATTER_UPDATE]) {
    report[config.kernelName] = replaceKernel(config);
  }
  return report;
}

/** The kernel names registerCpuTrainingKernels replaces on cpu, in report order. */
export const CPU_REPLACED_KERNELS: readonly string[] = Object.freeze([
  tf.Conv2DBackpropFilter,
  ...CPU_FAST_ELEMENTWISE_KERNELS.map((c) => c.kernelName),
  ...CPU_FAST_REDUCE_KERNELS.map((c) => c.kernelName),
  tf.TensorScatterUpdate,
]);
