// Sum and Mean for the cpu backend without the transpose. The stock Sum moves the reduced axes
// innermost with a Transpose that runs indexToLoc/locToIndex (array allocations) per element, and
// the stock Mean adds a Cast copy and a broadcasting RealDiv before that Sum. BatchNorm reduces
// [N,H,W,C] over [0,1,2] in every forward (moments) and backward pass, global average pooling over
// [1,2]: all of them transpose.
//
// Any reduction over one contiguous block of axes is out[o, i] = sum_r x[o, r, i] on the row-major
// array viewed as [outer, reduced, inner], which needs no data movement: for inner > 1 a row of
// float64 accumulators is added to once per reduced index. The summation order per output element
// (reduced positions in row-major order, accumulated in a JS double, rounded to float32 once) is
// the stock kernel's, and Mean sums fround(x / n) like the stock Cast -> RealDiv -> Sum chain, so
// the results are bit-identical to the stock kernels'. Non-contiguous or unsorted axes, bool and
// complex inputs, empty tensors and no-op reductions go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NumericValues } from './cpu-fast-elementwise.js';
import { requireStockKernel } from './kernel-registration.js';

const CPU = 'cpu';

type KernelParams = Parameters<tf.KernelFunc>[0];

/** A reduction over one contiguous, increasing block of axes, seen as x[outer, reduce, inner]. */
export interface ContiguousReduction {
  outer: number;
  reduce: number;
  inner: number;
  /** The result's shape (reduced axes dropped, or kept as 1 with keepDims). */
  outShape: number[];
}

/**
 * The [outer, reduce, inner] view of reducing `shape` over `axis` (tfjs axis attr: null = all,
 * a number, or a list, negatives allowed), or null when the axes are not one increasing run
 * without repeats, or nothing is reduced.
 */
export function contiguousReduction(
  shape: readonly number[],
  axis: number | number[] | null | undefined,
  keepDims: boolean,
): ContiguousReduction | null {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape as number[]);
  if (axes.length === 0) return null;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const lo = axes[0];
  const hi = axes[axes.length - 1];
  let outer = 1;
  let reduce = 1;
  let inner = 1;
  const outShape: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (d < lo) outer *= shape[d];
    else if (d > hi) inner *= shape[d];
    else reduce *= shape[d];
    if (d < lo || d > hi) outShape.push(shape[d]);
    else if (keepDims) outShape.push(1);
  }
  return { outer, reduce, inner, outShape };
}

/**
 * out[o*inner + i] = sum_r f(x[(o*reduce + r)*inner + i]) with f(v) = v for Sum and
 * fround(fround(v) / fround(reduce)) for Mean, accumulated in doubles in increasing r.
 */
export function reduceContiguousValues(
  x: NumericValues,
  plan: ContiguousReduction,
  mode: 'sum' | 'mean',
  outDtype: 'float32' | 'int32',
): NumericValues {
  const { outer, reduce, inner } = plan;
  const out = outDtype === 'int32' ? new Int32Array(outer * inner) : new Float32Array(outer * inner);
  // The stock Mean divides by a float32 scalar holding the count.
  const n = Math.fround(reduce);
  if (inner === 1) {
    for (let o = 0, p = 0; o < outer; o++) {
      let s = 0;
      if (mode === 'sum') for (let r = 0; r < reduce; r++) s += x[p++];
      else for (let r = 0; r < reduce; r++) s += Math.fround(Math.fround(x[p++]) / n);
      out[o] = s;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0, p = 0; o < outer; o++) {
    acc.fill(0);
    if (mode === 'sum') {
      for (let r = 0; r < reduce; r++) for (let i = 0; i < inner; i++) acc[i] += x[p++];
    } else {
      for (let r = 0; r < reduce; r++) for (let i = 0; i < inner; i++) acc[i] += Math.fround(Math.fround(x[p++]) / n);
    }
    const base = o * inner;
    for (let i = 0; i < inner; i++) out[base + i] = acc[i];
  }
  return out;
}

function makeReduceKernel(kernelName: string, mode: 'sum' | 'mean'): tf.KernelFunc {
  const kernel = (params: KernelParams): tf.TensorInfo => {
    const { x } = params.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = params.attrs as unknown as { axis: number | number[] | null; keepDims: boolean };
    const plan = x.dtype === 'float32' || x.dtype === 'int32' ? contiguousReduction(x.shape, axis, keepDims) : null;
    if (plan == null || plan.outer * plan.reduce * plan.inner === 0) {
      return requireStockKernel(kernelName, CPU).kernelFunc(params) as tf.TensorInfo;
    }
    const cpu = params.backend as MathBackendCPU;
    const xVals = cpu.data.get(x.dataId).values as NumericValues;
    // Stock dtypes: Sum keeps int32 (upcastType(int32, int32)) and float32; Mean casts to float32.
    const outDtype = mode === 'mean' ? 'float32' : (x.dtype as 'float32' | 'int32');
    return cpu.makeTensorInfo(plan.outShape, outDtype, reduceContiguousValues(xVals, plan, mode, outDtype));
  };
  return kernel as tf.KernelFunc;
}

/** Replacement kernel configs for the cpu backend (register with replaceKernel). */
export const CPU_FAST_REDUCE_KERNELS: readonly tf.KernelConfig[] = Object.freeze([
  { kernelName: tf.Sum, backendName: CPU, kernelFunc: makeReduceKernel(tf.Sum, 'sum') },
  { kernelName: tf.Mean, backendName: CPU, kernelFunc: makeReduceKernel(tf.Mean, 'mean') },
]);
