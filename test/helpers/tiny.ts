// Tiny models and data for tests: small enough for the cpu backend, real enough to learn.
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';

/** conv(4) → BN → ReLU → conv(8, stride 2) → BN → ReLU → GAP: images [H,W,C] → 8 features. */
export function tinyBackbone(size = 8, channels = 1, width = 4, name = 'tiny', seed?: number): tfl.LayersModel {
  // With a seed the initial weights repeat exactly (tfjs initializers draw from Math.random otherwise).
  const init = (k: number) => (seed === undefined ? undefined : tfl.initializers.heNormal({ seed: seed * 31 + k }));
  return tfl.sequential({
    name,
    layers: [
      tfl.layers.conv2d({ inputShape: [size, size, channels], filters: width, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_c1`, kernelInitializer: init(1) }),
      tfl.layers.batchNormalization({ name: `${name}_bn1` }),
      tfl.layers.activation({ activation: 'relu', name: `${name}_r1` }),
      tfl.layers.conv2d({ filters: 2 * width, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: `${name}_c2`, kernelInitializer: init(2) }),
      tfl.layers.batchNormalization({ name: `${name}_bn2` }),
      tfl.layers.activation({ activation: 'relu', name: `${name}_r2` }),
      tfl.layers.globalAveragePooling2d({ name: `${name}_gap` }),
    ],
  });
}

/** A dataset of n random images [size,size,channels] in [0,1], with indices. */
export function randomImages(n: number, size = 8, channels = 1, seed = 1): tfd.Dataset<{ xs: tf.Tensor3D; index: tf.Scalar }> {
  const all = tf.randomUniform([n, size, size, channels], 0, 1, 'float32', seed);
  const arr = all.arraySync() as number[][][][];
  all.dispose();
  return tfd.array(arr.map((img, i) => ({ img, i }))).map((e) => {
    const { img, i } = e as unknown as { img: number[][][]; i: number };
    return { xs: tf.tensor3d(img), index: tf.scalar(i, 'int32') };
  }) as tfd.Dataset<{ xs: tf.Tensor3D; index: tf.Scalar }>;
}
