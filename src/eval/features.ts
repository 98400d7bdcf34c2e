// Frozen-feature extraction: the representation that kNN and the linear probe evaluate (MoCo, He et al. 2020,
// §4.1 evaluates the frozen, globally pooled backbone features, not the projection head).
import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from '../math/l2-normalize.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSet } from '../data/image-set.js';

/**
 * What evaluation needs of an image set: the data module's ImageSet minus name and class names, so a set built
 * by hand in a test qualifies too. `images` is NHWC uint8; `labels` (one class per image) is needed by kNN and
 * the linear probe.
 */
export type LabeledImages = Pick<ImageSet, 'images' | 'count' | 'height' | 'width' | 'channels' | 'labels'>;

export interface ExtractFeaturesOptions {
  /** Images per forward pass; default 256. */
  batchSize?: number;
  /** L2-normalise each feature vector (what kNN on cosine similarity needs); default true. */
  normalize?: boolean;
  /**
   * Applied to the float pixels in [0, 1] before the model, e.g. the per-channel standardisation used during
   * pretraining: the encoder must see the input distribution it was trained on. Default: none.
   */
  preprocess?: (pixels: tf.Tensor4D) => tf.Tensor4D;
}

/** Pixels [start, start+n) of a set as a float32 NHWC tensor in [0, 1]. */
export function pixelBatch(set: LabeledImages, start: number, n: number): tf.Tensor4D {
  const per = set.height * set.width * set.channels;
  const src = set.images.subarray(start * per, (start + n) * per);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] / 255;
  return tf.tensor4d(out, [n, set.height, set.width, set.channels]);
}

function checkSet(set: LabeledImages): void {
  const expected = set.count * set.height * set.width * set.channels;
  if (set.images.length !== expected) {
    const shape = `${set.count}×${set.height}×${set.width}×${set.channels}`;
    throw new Error(`image set: ${set.images.length} bytes, expected ${shape}`);
  }
}

/**
 * Runs `model` in inference mode (BatchNorm uses running statistics, training=false) over all images in
 * batches and returns the features as a [count, d] tensor (outputs with spatial dims are flattened).
 * The caller owns (and disposes) the result.
 */
export function extractFeatures(
  model: tfl.LayersModel,
  images: LabeledImages,
  opts: ExtractFeaturesOptions = {},
): tf.Tensor2D {
  checkSet(images);
  const batchSize = opts.batchSize ?? 256;
  const normalize = opts.normalize ?? true;
  if (images.count === 0) throw new Error('extractFeatures: empty image set');
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < images.count; start += batchSize) {
      const n = Math.min(batchSize, images.count - start);
      parts.push(
        tf.tidy(() => {
          let x = pixelBatch(images, start, n);
          if (opts.preprocess) x = opts.preprocess(x);
          const y = model.apply(x, { training: false });
          if (Array.isArray(y)) throw new Error('extractFeatures: the model must have a single output');
          const flat = tf.reshape(y as tf.Tensor, [n, -1]) as tf.Tensor2D;
          return normalize ? l2Normalize(flat) : flat;
        }),
      );
    }
    return parts.length === 1 ? (parts.pop() as tf.Tensor2D) : tf.concat(parts, 0);
  } finally {
    for (const p of parts) p.dispose();
  }
}

export interface RawPixelOptions {
  /**
   * Subtract a per-pixel mean: `true` uses this set's own mean; pass the train set's mean (from `pixelMean`)
   * to centre a test set the same way. Centred pixels are a markedly stronger kNN baseline on Fashion-MNIST
   * (82.7 vs 79.8 in the reference notes), so reports should show it. Default: no centring.
   */
  center?: boolean | tf.Tensor1D;
  /** L2-normalise each row; default false (knnAccuracy normalises anyway, linearProbe standardises). */
  normalize?: boolean;
}

/** Per-pixel mean over a set's images (in [0, 1]), shape [height·width·channels]. Caller disposes. */
export function pixelMean(images: LabeledImages): tf.Tensor1D {
  checkSet(images);
  const d = images.height * images.width * images.channels;
  const acc = new Float64Array(d);
  const px = images.images;
  for (let i = 0; i < images.count; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) acc[j] += px[off + j];
  }
  const mean = new Float32Array(d);
  for (let j = 0; j < d; j++) mean[j] = acc[j] / images.count / 255;
  return tf.tensor1d(mean);
}

/** The raw-pixel baseline: each image flattened to a [count, h·w·c] row of float pixels in [0, 1]. */
export function rawPixelFeatures(images: LabeledImages, opts: RawPixelOptions = {}): tf.Tensor2D {
  checkSet(images);
  const d = images.height * images.width * images.channels;
  return tf.tidy(() => {
    let x = tf.reshape(pixelBatch(images, 0, images.count), [images.count, d]) as tf.Tensor2D;
    if (opts.center === true) {
      const mean = pixelMean(images);
      x = tf.sub(x, mean);
    } else if (opts.center instanceof tf.Tensor) {
      if (opts.center.size !== d) throw new Error(`rawPixelFeatures: mean has ${opts.center.size} values, expected ${d}`);
      x = tf.sub(x, opts.center);
    }
    return opts.normalize ? l2Normalize(x) : x;
  });
}
