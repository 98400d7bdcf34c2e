// Shared helpers for the backend tests: deterministic data, running one kernel on a chosen
// backend from plain arrays, and error measures.
import * as tf from '@tensorflow/tfjs-core';

/** Deterministic uniform values in [-1, 1) (an LCG, so every backend gets identical inputs). */
export function seededValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export interface KernelInput {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/** Activates `backendName`, runs kernel `kernelName` on fresh tensors and returns its values. */
export async function runKernelOn(
  backendName: string,
  kernelName: string,
  inputs: Record<string, KernelInput>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array | Int32Array; shape: number[] }> {
  await tf.setBackend(backendName);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, input] of Object.entries(inputs)) {
    tensors[name] = tf.tensor(input.values, input.shape, input.dtype ?? 'float32');
  }
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = (await out.data()) as Float32Array | Int32Array;
  const shape = out.shape;
  tf.dispose([out, ...Object.values(tensors)]);
  return { values, shape };
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * float32 tolerance for results that are sums of `terms` products of O(1) values: a few ulps of
 * the result's magnitude per sqrt(term count), with a floor for results near zero.
 */
export function float32Tolerance(reference: ArrayLike<number>, terms: number): number {
  return 4 * 2 ** -23 * Math.max(1, maxAbs(reference)) * Math.max(1, Math.sqrt(terms)) + 1e-6;
}
