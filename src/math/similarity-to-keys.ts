import * as tf from '@tensorflow/tfjs-core';
import { SIMILARITY_TO_KEYS_KERNEL, similarityToKeysKernelAvailable } from '../kernels/similarity-to-keys-kernel.js';

/**
 * q·Kᵀ ([N,d] · [M,d]ᵀ → [N,M]) where K is a constant store of keys (a queue, a memory bank): the
 * gradient flows to `queries` only (dq = ∂s · K), never to the store.
 *
 * Why not tf.matMul(q, keys, false, true): on wasm a product with either operand transposed runs a
 * scalar loop, while the untransposed product runs XNNPACK, and autodiff of a transposed product makes
 * another transposed product. Here both directions are untransposed: forward as (K · qᵀ)ᵀ, backward as
 * ∂s · K. With InfoNceLoss's own gradient, the dictionary + loss part of a wasm step is 4.9× faster at
 * K 4096 and 6.2× at K 65536 (`npx tsx bench/head.ts`, docs/performance.md). On wasm with WebAssembly SIMD
 * the forward is one kernel of the library's (MocoSimilarityToKeys: the conv loop, then a blocked transpose),
 * since there the stock Transpose of (K · qᵀ) cost as much as the product: [64, 4096] logits in ~2 ms against
 * ~6-10 ms.
 */
export function similarityToKeys(queries: tf.Tensor2D, keys: tf.Tensor2D): tf.Tensor2D {
  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [q, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    // Saved, not captured: a caller may free `keys` (e.g. a gathered sample) before backprop runs.
    save([keys]);
    return {
      value: (similarityToKeysKernelAvailable() && q.dtype === 'float32' && keys.dtype === 'float32'
        ? tf.engine().runKernel(SIMILARITY_TO_KEYS_KERNEL, { q, keys })
        : tf.transpose(tf.matMul(keys, tf.transpose(q)))) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, saved[0] as tf.Tensor2D)],
    };
  });
  return node(queries) as tf.Tensor2D;
}
