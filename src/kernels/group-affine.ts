// y = x·s + t (+ x2·s2) with s, t, s2 per group and channel ([G, C]) over x, x2 of [G, rows, C]: the maps
// BatchNorm with per-group statistics (Shuffle BN, MoCo Sec. 3.3) is made of, as one kernel call on the
// backends the library has kernels for (wasm, cpu); elsewhere as tfjs broadcast ops.
//
// Why: as broadcast ops ([G, M, H, W, C] against [G, 1, 1, 1, C]) tfjs-backend-wasm runs its generic
// broadcasting loop, 2.3-2.5× the time of the same op on equal shapes, and the backward pass needs four of
// them ((∂y·a + c) + x̂·b). In the default job's step (small encoder, batch 64, 8 groups, one thread) these
// broadcast ops took 13 of 138 profiled ms (2026-12-06). The kernel makes one pass over memory and rounds as
// the ops do ((x·s + t) + x2·s2, each product and sum rounded to float32), so results are bit-identical to the
// broadcast ops (tested).
import * as tf from '@tensorflow/tfjs-core';
import { kernelOnFirstUse } from './kernel-registration.js';
import { simdConvAvailable } from './simd-conv.js';
import { simdOnHeap, type WasmBackendLike } from './wasm-training-kernels.js';

export const GROUP_AFFINE_KERNEL = 'MocoGroupAffine';

type KernelParams = Parameters<tf.KernelFunc>[0];

interface GroupAffineAttrs {
  groups: number;
}

/** y = x·s + t (+ x2·s2) in float32, rounded as the broadcast ops round, on plain arrays. */
function groupAffineArrays(
  y: Float32Array, x: Float32Array, s: Float32Array, t: Float32Array, x2: Float32Array | undefined, s2: Float32Array | undefined,
  groups: number, rows: number, c: number,
): void {
  const f = Math.fround;
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < rows; r++) {
      const at = (g * rows + r) * c;
      for (let j = 0; j < c; j++) {
        const a = f(f(x[at + j] * s[g * c + j]) + t[g * c + j]);
        y[at + j] = x2 && s2 ? f(a + f(x2[at + j] * s2[g * c + j])) : a;
      }
    }
  }
}

/** The kernel's inputs in order (x, s, t, then x2, s2 when given) and its geometry. */
function operands(inputs: tf.NamedTensorInfoMap, attrs: GroupAffineAttrs) {
  const { x, s, t, x2, s2 } = inputs;
  if (!x || !s || !t || (x2 == null) !== (s2 == null)) {
    throw new Error(`${GROUP_AFFINE_KERNEL}: inputs x, s, t (and x2 with s2) are required`);
  }
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / (attrs.groups * c);
  return { list: x2 && s2 ? [x, s, t, x2, s2] : [x, s, t], rows, c, shape: x.shape };
}

function cpuKernel({ inputs, backend, attrs }: KernelParams): tf.TensorInfo {
  const { groups } = attrs as unknown as GroupAffineAttrs;
  const { list, rows, c, shape } = operands(inputs, { groups });
  const cpu = backend as tf.KernelBackend & { makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
  const [x, s, t, x2, s2] = list.map((info) => cpu.readSync(info.dataId) as Float32Array);
  const y = new Float32Array(x.length);
  groupAffineArrays(y, x, s, t, x2, s2, groups, rows, c);
  return cpu.makeTensorInfo(shape, 'float32', y);
}

function wasmKernel({ inputs, backend, attrs }: KernelParams): tf.TensorInfo {
  const { groups } = attrs as unknown as GroupAffineAttrs;
  const { list, rows, c, shape } = operands(inputs, { groups });
  const wasm = backend as WasmBackendLike;
  if (!simdConvAvailable()) {
    const out = wasm.makeOutput(shape, 'float32');
    const [x, s, t, x2, s2] = list.map((info) => wasm.typedArrayFromHeap(info) as Float32Array);
    groupAffineArrays(wasm.typedArrayFromHeap(out) as Float32Array, x, s, t, x2, s2, groups, rows, c);
    return out;
  }
  return simdOnHeap(backend, list, shape, (a, [x, s, t, x2, s2], y) => a.k.groupAffine(y, x, s, t, x2 ?? 0, s2 ?? 0, groups, rows, c));
}

const KERNELS: Record<string, tf.KernelFunc> = { cpu: cpuKernel as tf.KernelFunc, wasm: wasmKernel as tf.KernelFunc };

/** Whether the fused kernel runs on `backend` (registering it on first use). */
export function groupAffineKernelAvailable(backend = tf.getBackend()): boolean {
  return kernelOnFirstUse(GROUP_AFFINE_KERNEL, backend, KERNELS);
}

/** The second term x2·s2 of groupAffine. */
export interface GroupAffineTerm {
  /** Same shape as x. */
  x: tf.Tensor;
  /** [groups, C]. */
  scale: tf.Tensor;
}

/**
 * x·scale + shift (+ second.x·second.scale) per group and channel: x ([N, ..., C], N a multiple of `groups`;
 * each group is N/groups consecutive samples), scale and shift [groups, C]. One kernel call on wasm and cpu
 * (float32), broadcast ops elsewhere; the same values either way. Not differentiable: for hand-written
 * gradients (GroupBatchNormalization's).
 *
 * ```ts
 * const xhat = groupAffine(x, 8, invStd, tf.neg(tf.mul(mean, invStd))); // (x − μ_g)/σ_g for 8 groups
 * ```
 */
export function groupAffine(x: tf.Tensor, groups: number, scale: tf.Tensor, shift: tf.Tensor, second?: GroupAffineTerm): tf.Tensor {
  const c = x.shape[x.rank - 1];
  const expect = [groups, c];
  for (const [name, v] of [['scale', scale], ['shift', shift], ['second.scale', second?.scale]] as const) {
    if (v && (v.size !== groups * c)) throw new Error(`groupAffine: ${name} must hold [groups, C] = [${expect}] values, got shape [${v.shape}]`);
  }
  if (x.shape[0] % groups !== 0) throw new Error(`groupAffine: ${x.shape[0]} samples do not split into ${groups} equal groups`);
  if (second && !tf.util.arraysEqual(second.x.shape, x.shape)) throw new Error(`groupAffine: second.x must have x's shape [${x.shape}], got [${second.x.shape}]`);
  const fused = groupAffineKernelAvailable() && [x, scale, shift, second?.x, second?.scale].every((v) => v == null || v.dtype === 'float32');
  return tf.tidy(() => {
    if (fused) {
      const inputs: tf.NamedTensorMap = { x, s: scale, t: shift };
      if (second) Object.assign(inputs, { x2: second.x, s2: second.scale });
      return tf.engine().runKernel(GROUP_AFFINE_KERNEL, inputs, { groups } as unknown as tf.NamedAttrMap) as tf.Tensor;
    }
    const grouped = [groups, x.shape[0] / groups, ...x.shape.slice(1)];
    const perGroup = [groups, ...x.shape.slice(1, -1).map(() => 1), 1, c];
    const xg = tf.reshape(x, grouped);
    let y = tf.add(tf.mul(xg, tf.reshape(scale, perGroup)), tf.reshape(shift, perGroup));
    if (second) y = tf.add(y, tf.mul(tf.reshape(second.x, grouped), tf.reshape(second.scale, perGroup)));
    return tf.reshape(y, x.shape);
  });
}
