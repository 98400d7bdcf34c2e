import * as tf from '@tensorflow/tfjs-core';

/** Rows scaled to unit L2 norm (a floor of 1e-12 on the squared norm keeps zero rows finite). */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12))) as T);
}
