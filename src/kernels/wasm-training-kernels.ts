// The kernels @tensorflow/tfjs-backend-wasm 4.22 lacks for training, composed from kernels it has.
// Without Conv2DBackpropFilter no conv net trains on wasm at all ("Kernel 'Conv2DBackpropFilter'
// not registered for backend 'wasm'"); the depthwise pair and UnsortedSegmentSum (gather's
// gradient) are missing too. Conv2DBackpropInput exists but is a scalar C++ loop; where XNNPACK's
// forward conv is measurably faster it is replaced.
//
// This module never imports the wasm package (it is an optional peer): registering kernels for a
// backend name needs only tfjs-core. The Conv2DBackpropInput replacement is applied only once the
// wasm package has registered its stock kernel, so call registerWasmTrainingKernels() after
// `import '@tensorflow/tfjs-backend-wasm'` (calling it again later is harmless).
//
// Where WebAssembly SIMD is available (Node >= 16.4), the forward conv (Conv2D, FusedConv2D with a
// bias and/or ReLU) and the filter gradient run the library's own SIMD loops instead
// (simd-conv.ts, 1.1-3x XNNPACK's speed at CIFAR ResNet layer sizes); the input gradient, written
// as a forward conv, then uses them too. registerWasmTrainingKernels({ convKernels: 'xnnpack' }) restores
// XNNPACK (wasm-kernel-options.ts).
//
// XNNPACK caches packed conv filters by tensor id. All filters built here are fresh intermediates
// (new ids) that are disposed after use, so no stale packed weights can be hit; nothing here
// writes into an existing tensor's memory. Disposing such a filter also frees its cached operator
// and packed copy: 180 dW/dX calls at [16,32,32,32] left the wasm heap at its first-call size.
import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dBackpropFilterAsConv,
  conv2dBackpropInputAsConv,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
} from './conv-backprop-as-conv.js';
import {
  depthwiseBackpropFilterAsConv,
  depthwiseBackpropInputAsConv,
  type DepthwiseBackpropAttrs,
} from './depthwise-backprop-as-conv.js';
import { conv2dBackpropInputSubPixel, subPixelPlan } from './conv-backprop-input-subpixel.js';
import { withKernelScope } from './kernel-scope.js';
import {
  registerIfMissing,
  replaceKernel,
  requireStockKernel,
  type RegistrationOutcome,
} from './kernel-registration.js';
import { applyWasmTrainingKernelsArgs, wasmTrainingKernelsConfig, type WasmConvKernels, type WasmTrainingKernelsArgs } from './wasm-kernel-options.js';
import { unsortedSegmentSumValues } from './unsorted-segment-sum.js';
import {
  simdConv2DAt,
  simdConv2DBackpropFilterAt,
  simdConv2DBackpropInputAt,
  simdConvAvailable,
  simdHeapArena,
  simdRunOnArrays,
  setSimdConvFma,
  type ConvArena,
} from './simd-conv.js';

const WASM = 'wasm';

type KernelParams = Parameters<tf.KernelFunc>[0];

/** The part of tfjs-backend-wasm's BackendWasm used here (the package is optional, so no import). */
export interface WasmBackendLike extends tf.KernelBackend {
  /** The emscripten module (its Memory, malloc and free run the SIMD kernels in place; simd-conv.ts). */
  wasm: unknown;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/** The conv loops in use: 'simd' only if chosen and this runtime validates WebAssembly SIMD. */
export function wasmConvKernels(): WasmConvKernels {
  return wasmTrainingKernelsConfig().convKernels === 'simd' && simdConvAvailable() ? 'simd' : 'xnnpack';
}

/** The SIMD module on the wasm backend's own heap, or null (not reachable, or the option simdInPlace false). */
export function wasmHeapArena(backend: unknown): ConvArena | null {
  return wasmTrainingKernelsConfig().simdInPlace ? simdHeapArena((backend as WasmBackendLike).wasm) : null;
}

/**
 * Runs a SIMD kernel on float32 tensors of the wasm backend and returns its output of `shape`.
 * Where the backend's Memory is reachable, the kernel runs on it: it reads the inputs where they
 * lie and writes into the output tensor, allocated first (offsets stay valid when the heap grows).
 * Otherwise the inputs are copied out of the heap into the kernels' own memory and the result back.
 */
export function simdOnHeap(
  backend: unknown,
  inputs: tf.TensorInfo[],
  shape: number[],
  run: (arena: ConvArena, at: number[], out: number) => void,
): tf.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const arena = wasmHeapArena(backend);
  if (arena == null) {
    const values = simdRunOnArrays(inputs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array), tf.util.sizeFromShape(shape),
      (a, at, out) => run(a, at as number[], out));
    const out = wasm.makeOutput(shape, 'float32');
    (wasm.typedArrayFromHeap(out) as Float32Array).set(values);
    return out;
  }
  const out = wasm.makeOutput(shape, 'float32');
  try {
    run(arena, inputs.map((t) => wasm.typedArrayFromHeap(t).byteOffset), wasm.typedArrayFromHeap(out).byteOffset);
  } catch (err) {
    wasm.disposeData(out.dataId);
    throw err;
  } finally {
    arena.release();
  }
  return out;
}

/**
 * Below this many multiply-adds (of the forward conv) the stock kernel is used: there the fixed
 * cost of the conv route (filter flip + transpose, zero insertion, XNNPACK operator creation and
 * weight packing, ~0.1 ms) is larger than the loop it saves.
 *
 * Measured (wasm SIMD, 1 thread, Node 20, 2-vCPU VM under load from other jobs; stock / conv,
 * median ms, 3x3 'same' unless noted):
 *   tiny:  N3 7x7 3->5: 0.07 / 0.13;  N8 8x8 4->4: 0.12 / 0.11;  N8 8x8 8->8 s2: 0.10 / 0.17;
 *          N32 4x4 16->16 1x1: 0.27 / 0.27;  N16 16x16 8->8: 2.2 / 0.65
 *   width 16, N32: 32x32 16->16: 63 / 12 (5.1x);  32x32 16->32 s2: 34 / 20 (1.7x);
 *          16x16 32->32: 50 / 8 (6x);  8x8 64->64: 40 / 6 (7x);  4x4 128->128: 33 / 10 (3.2x)
 *   width 16, N128: 32x32 3->16: 50 / 22 (2.2x);  32x32 16->16: 353 / 52 (6.8x);
 *          16x16 32->32: 373 / 42 (8.8x);  32x32 16->32 s2: 254 / 113 (2.2x); same 1x1: 96 / 50 (1.9x)
 *   width 64, N32: 32x32 64->64: 765 / 97 (7.9x);  32x32 64->128 s2: 402 / 146 (2.8x);
 *          1x1 s2: 73 / 25 (2.9x);  16x16 128->128: 710 / 87 (8.2x);  8x8 256->256: 1032 / 155 (6.7x);
 *          4x4 512->512: 690 / 176 (3.9x)
 * So the conv route wins at every layer shape of a CIFAR ResNet-18, at width 16 as well as 64;
 * stride-2 layers gain less because 3/4 of the MACs hit inserted zeros.
 */
export const CONV_BACKPROP_INPUT_MIN_MACS = 1 << 18;

export function shouldUseConvBackpropInput(info: tf.backend_util.Conv2DInfo): boolean {
  const macs = info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth *
    info.inChannels * info.outChannels;
  return macs >= CONV_BACKPROP_INPUT_MIN_MACS;
}

function conv2DBackpropFilterKernel({ inputs, backend, attrs }: KernelParams): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & { dataFormat: 'NHWC' | 'NCHW' };
  if (a.dataFormat === 'NCHW') {
    throw new Error("tfjs-moco: wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only (as wasm's Conv2D does)");
  }
  if (wasmConvKernels() === 'simd' && x.dtype === 'float32' && dy.dtype === 'float32') {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
    return simdOnHeap(backend, [x, dy], a.filterShape, (arena, [xa, dya], out) => simdConv2DBackpropFilterAt(arena, xa, dya, out, info));
  }
  return withKernelScope(WASM, backend as tf.KernelBackend, (scope) => conv2dBackpropFilterAsConv(scope, x, dy, a));
}

type ConvAttrs = tf.Conv2DAttrs & Partial<Pick<tf.FusedConv2DAttrs, 'activation'>>;

/**
 * Conv2D and FusedConv2D on the SIMD loops where they cover the call (NHWC, dilation 1, float32,
 * no activation but ReLU, a bias of one value per output channel, no PReLU weights); anything
 * else goes to tfjs-backend-wasm's own kernel.
 */
function simdConvKernel(kernelName: string): tf.KernelFunc {
  return (params: KernelParams): tf.TensorInfo => {
    const { inputs, backend, attrs } = params;
    const { x, filter, bias, preluActivationWeights } = inputs as {
      x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo;
    };
    const a = attrs as unknown as ConvAttrs;
    const activation = a.activation ?? 'linear';
    const outChannels = filter.shape[3];
    const covered = wasmConvKernels() === 'simd' && a.dataFormat !== 'NCHW' &&
      tf.backend_util.tupleValuesAreOne(a.dilations ?? 1) &&
      x.dtype === 'float32' && filter.dtype === 'float32' && preluActivationWeights == null &&
      (activation === 'linear' || activation === 'relu') &&
      (bias == null || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === outChannels));
    if (!covered) return requireStockKernel(kernelName, WASM).kernelFunc(params) as tf.TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
    return simdOnHeap(backend, bias == null ? [x, filter] : [x, filter, bias], info.outShape, (arena, [xa, fa, ba], out) =>
      simdConv2DAt(arena, xa, fa, ba, out, info, { relu: activation === 'relu' }));
  };
}

function conv2DBackpropInputKernel(params: KernelParams): tf.TensorInfo {
  const { inputs, backend, attrs } = params;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as Conv2DBackpropInputAttrs & { dataFormat: 'NHWC' | 'NCHW' };
  const { backpropInputPolicy } = wasmTrainingKernelsConfig();
  if (backpropInputPolicy !== 'stock' && a.dataFormat !== 'NCHW') {
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode);
    const big = shouldUseConvBackpropInput(info);
    const simd = wasmConvKernels() === 'simd' && dy.dtype === 'float32' && filter.dtype === 'float32';
    if (simd && (backpropInputPolicy === 'auto' || backpropInputPolicy === 'phases')) {
      // Per call at batch 128 against the sub-pixel / zero-insertion forms on the same SIMD loops:
      // 3x3 s2 32x32x16->32 15.2 -> 8.6 ms, 1x1 s2 32x32x64->128 62 -> 18 ms. Stride 1 against the
      // conv formulation, whose wasm Reverse + Transpose of the filter dominated small batches:
      // 3x3 4x4x128->128 6.6 -> 1.2 ms at batch 8, 21 -> 7.6 ms at batch 128 (bench/kernels.ts).
      return simdOnHeap(backend, [dy, filter], a.inputShape, (arena, [dya, fa], out) => simdConv2DBackpropInputAt(arena, dya, fa, out, info));
    }
    const plan = backpropInputPolicy === 'subpixel' || (backpropInputPolicy === 'auto' && big) ? subPixelPlan(info) : null;
    if (plan) {
      return withKernelScope(WASM, backend as tf.KernelBackend, (scope) => conv2dBackpropInputSubPixel(scope, dy, filter, info, plan));
    }
    if (backpropInputPolicy !== 'auto' || big) {
      return withKernelScope(WASM, backend as tf.KernelBackend, (scope) => conv2dBackpropInputAsConv(scope, dy, filter, a));
    }
  }
  return requireStockKernel(tf.Conv2DBackpropInput, WASM).kernelFunc(params) as tf.TensorInfo;
}

function depthwiseBackpropFilterKernel({ inputs, backend, attrs }: KernelParams): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseBackpropAttrs & { filterShape: [number, number, number, number] };
  return withKernelScope(WASM, backend as tf.KernelBackend, (scope) => depthwiseBackpropFilterAsConv(scope, x, dy, a));
}

function depthwiseBackpropInputKernel({ inputs, backend, attrs }: KernelParams): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseBackpropAttrs & { inputShape: [number, number, number, number] };
  return withKernelScope(WASM, backend as tf.KernelBackend, (scope) => depthwiseBackpropInputAsConv(scope, dy, filter, a));
}

function unsortedSegmentSumKernel({ inputs, backend, attrs }: KernelParams): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`tfjs-moco: wasm UnsortedSegmentSum does not support dtype ${x.dtype}`);
  }
  const wasm = backend as WasmBackendLike;
  // readSync copies out of the wasm heap; the output is allocated afterwards, so a heap growth
  // during that allocation cannot detach the arrays being read.
  const xVals = wasm.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
  const out = unsortedSegmentSumValues(xVals, x.shape, x.dtype, ids, segmentIds.shape, numSegments);
  return wasm.makeOutput(out.shape, x.dtype, undefined, out.values);
}

const MISSING_KERNELS: tf.KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropFilter, backendName: WASM, kernelFunc: conv2DBackpropFilterKernel as tf.KernelFunc },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: WASM,
    kernelFunc: depthwiseBackpropFilterKernel as tf.KernelFunc,
  },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: WASM,
    kernelFunc: depthwiseBackpropInputKernel as tf.KernelFunc,
  },
  { kernelName: tf.UnsortedSegmentSum, backendName: WASM, kernelFunc: unsortedSegmentSumKernel as tf.KernelFunc },
];

/**
 * Identity sharing its input's memory (one more reference), as tfjs' cpu backend and wasm's own
 * Reshape do, instead of wasm's copy. tfjs runs Identity for every tensor a gradient saves (engine
 * `clone`): about 40 full-size activation copies per ResNet-18 step, 20-40 ms at width 16 (bench
 * trace, MOCO_BENCH_TRACE=Identity). Tensors are immutable in tfjs, so sharing is what a copy means;
 * strings keep the stock kernel.
 */
function identityKernel(params: KernelParams): tf.TensorInfo {
  const { inputs, backend } = params;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return requireStockKernel(tf.Identity, WASM).kernelFunc(params) as tf.TensorInfo;
  (backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

const IDENTITY_REPLACEMENT: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: WASM,
  kernelFunc: identityKernel as tf.KernelFunc,
};

const CONV_REPLACEMENTS: tf.KernelConfig[] = [tf.Conv2D, tf.FusedConv2D].map((kernelName) => ({
  kernelName,
  backendName: WASM,
  kernelFunc: simdConvKernel(kernelName),
}));

const BACKPROP_INPUT_REPLACEMENT: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: WASM,
  kernelFunc: conv2DBackpropInputKernel as tf.KernelFunc,
};

/** kernel name -> what registerWasmTrainingKernels did with it. */
export type KernelRegistrationReport = Record<string, RegistrationOutcome>;

/**
 * Registers the wasm training kernels and sets how they run (`options`; a field left out takes its
 * default, see WasmTrainingKernelsArgs). Idempotent; never throws for a missing wasm package (the
 * new kernels are then registered ahead of it, and the Conv2DBackpropInput replacement reports
 * 'no-stock-kernel' until the package is loaded and this is called again). selectBackend calls it
 * with its `wasmKernels` option when it picks wasm.
 *
 * @example
 * import '@tensorflow/tfjs-backend-wasm';
 * registerWasmTrainingKernels(); // the defaults: SIMD loops, in place, input gradient 'auto'
 * await tf.setBackend('wasm');
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelsArgs = {}): KernelRegistrationReport {
  const previous = { ...wasmTrainingKernelsConfig() };
  applyWasmTrainingKernelsArgs(options);
  try {
    setSimdConvFma(wasmTrainingKernelsConfig().simdFma);
  } catch (err) {
    applyWasmTrainingKernelsArgs(previous); // a refused simdFma 'relaxed' leaves the previous configuration in force
    throw err;
  }
  const report: KernelRegistrationReport = {};
  for (const config of MISSING_KERNELS) report[config.kernelName] = registerIfMissing(config);
  report[tf.Conv2DBackpropInput] = replaceKernel(BACKPROP_INPUT_REPLACEMENT);
  report[tf.Identity] = replaceKernel(IDENTITY_REPLACEMENT);
  for (const config of CONV_REPLACEMENTS) report[config.kernelName] = replaceKernel(config);
  return report;
}
