// Per-channel statistics and per-channel affine maps of channels-last tensors, written with the
// kernels that are fast on each backend. BatchNorm is made of these two operations, and on wasm the
// obvious ops are slow for them:
//  - tf.mean over every axis but the last transposes the whole tensor first (the reduction kernel
//    wants the reduced axes innermost); XNNPACK's average pooling reduces in place, channels-last;
//  - a broadcast multiply by a [C] vector takes wasm's generic broadcasting path; a 1x1 depthwise
//    convolution with bias (XNNPACK) does scale and shift in one pass.
// Measured on wasm, one thread, [128,32,32,16] (a micro-benchmark of the op alone, median of 20):
// mean 3.4 ms vs pooled 0.23-0.35 ms; x·s + t as mul+add 4.2 ms vs depthwise 0.45-0.6 ms. On the
// cpu backend the depthwise affine is also faster (28 vs 46 ms) but pooling is not (7.3 vs 5.2 ms),
// so pooling is used on wasm only. Results agree with tf.mean to float32 rounding (≤1e-5 relative).
import * as tf from '@tensorflow/tfjs-core';

/** Backends whose average pooling beats tf.mean for channel statistics (measured; see above). */
const POOLED_MEAN_BACKENDS = new Set(['wasm']);

/**
 * Mean per group and channel of `x` ([N, ..., C], N a multiple of `groups`; each group is N/groups
 * consecutive samples): a [groups, C] tensor.
 */
export function channelMean(x: tf.Tensor, groups = 1): tf.Tensor2D {
  const channels = x.shape[x.rank - 1];
  const rows = x.size / (groups * channels);
  if (!Number.isInteger(rows)) {
    throw new Error(`channelMean: ${x.shape[0]} samples do not split into ${groups} equal groups`);
  }
  return tf.tidy(() => {
    if (rows > 1 && POOLED_MEAN_BACKENDS.has(tf.getBackend())) {
      const pooled = tf.avgPool(tf.reshape(x, [groups, rows, 1, channels]) as tf.Tensor4D, [rows, 1], 1, 'valid');
      return tf.reshape(pooled, [groups, channels]) as tf.Tensor2D;
    }
    return tf.mean(tf.reshape(x, [groups, rows, channels]), 1) as tf.Tensor2D;
  });
}

/**
 * x·scale + shift per channel (scale, shift: [C]; shift optional), as one 1x1 depthwise convolution
 * with bias. Same shape as x.
 */
export function channelAffine(x: tf.Tensor, scale: tf.Tensor, shift?: tf.Tensor): tf.Tensor {
  const channels = x.shape[x.rank - 1];
  return tf.tidy(() => {
    const filter = tf.reshape(scale, [1, 1, channels, 1]) as tf.Tensor4D;
    // wasm's fused depthwise kernel checks the rank its bias *data* was created with, which a reshape
    // does not change; multiplying by 1 gives fresh rank-1 data whatever the caller passed.
    const bias = shift == null ? undefined : tf.mul(tf.reshape(shift, [channels]), 1);
    const rows = x.size / channels;
    const y = tf.fused.depthwiseConv2d({
      x: tf.reshape(x, [1, rows, 1, channels]) as tf.Tensor4D,
      filter,
      strides: 1,
      pad: 'valid',
      bias,
    });
    return tf.reshape(y, x.shape);
  });
}
