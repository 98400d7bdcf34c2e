// q·Kᵀ for a store of keys (MoCo's queue: K 4096 × 128) as one kernel on wasm with the SIMD loops: the
// product runs on the library's direct conv loop and its transpose in the same module.
//
// Why: tfjs-backend-wasm's untransposed BatchMatMul (XNNPACK) computes K·qᵀ [K, N] in ~5 ms at N 64, and its
// Transpose to [N, K] takes as long again; a transposed product runs a scalar loop. Here the same [64, 4096]
// logits take ~2 ms (see similarityToKeys and docs/performance.md).
import * as tf from '@tensorflow/tfjs-core';
import { kernelOnFirstUse } from './kernel-registration.js';
import { simdConvAvailable, simdSimilarityToKeysAt } from './simd-conv.js';
import { simdOnHeap } from './wasm-training-kernels.js';

export const SIMILARITY_TO_KEYS_KERNEL = 'MocoSimilarityToKeys';

type KernelParams = Parameters<tf.KernelFunc>[0];

function wasmKernel({ inputs, backend }: KernelParams): tf.TensorInfo {
  const { q, keys } = inputs;
  if (!q || !keys) throw new Error(`${SIMILARITY_TO_KEYS_KERNEL}: inputs q and keys are required`);
  const [n, d] = q.shape;
  const [m] = keys.shape;
  return simdOnHeap(backend, [q, keys], [n, m], (a, [qa, ka], out) => simdSimilarityToKeysAt(a, qa, ka, out, n, m, d));
}

/** Whether the kernel runs on `backend` (wasm with WebAssembly SIMD; registered on first use). */
export function similarityToKeysKernelAvailable(backend = tf.getBackend()): boolean {
  return simdConvAvailable() && kernelOnFirstUse(SIMILARITY_TO_KEYS_KERNEL, backend, { wasm: wasmKernel as tf.KernelFunc });
}
