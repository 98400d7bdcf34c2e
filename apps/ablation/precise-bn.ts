// "Precise BN" before evaluation (as fvcore's update_bn_stats / pycls do): replace every BatchNormalization
// layer's running mean and variance by their average over a number of training batches, computed with the
// final weights. A short run leaves running statistics that are mostly their initial values (mean 0, var 1;
// with BN momentum 0.9, after 10 steps 35 % of each statistic is still the initial value) or that average over
// encoders of many different steps; features computed with them in inference mode then measure the stale
// statistics rather than the representation. Re-estimating them puts every cell, and the random-init
// baseline, on the same footing.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LabeledImages } from '../../src/eval/features.js';
import { pixelBatch } from '../../src/eval/features.js';
import { shuffledIndices } from '../../src/data/seeded-random.js';
import { subsetImageSet, type ImageSet } from '../../src/data/image-set.js';

export interface PreciseBnOptions {
  /** Batches averaged; default 8. */
  readonly batches?: number;
  /** Images per batch; default 256. */
  readonly batchSize?: number;
  /** Which images (a seeded random sample of the set); default 0. */
  readonly seed?: number;
}

type MutableBn = { momentum: number };

/** Every BatchNormalization layer of a model, nested models included. */
function batchNormLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  const visit = (layers: readonly tfl.layers.Layer[]) => {
    for (const layer of layers) {
      if (layer instanceof tfl.LayersModel) visit(layer.layers);
      else if (layer.getClassName() === 'BatchNormalization') out.push(layer);
    }
  };
  visit(model.layers);
  return out;
}

/**
 * Recompute the running statistics of every BatchNormalization layer of `model` in place: forward passes in
 * training mode over `batches` seeded random batches of `images`, with each layer's momentum set so that its
 * running statistic becomes the plain average of the batch statistics (momentum 1 − 1/i at batch i). Other
 * weights are untouched; the momentum is restored. Returns the number of layers updated.
 */
export function recomputeBatchNormStatistics(model: tfl.LayersModel, images: ImageSet | LabeledImages, options: PreciseBnOptions = {}): number {
  const layers = batchNormLayers(model);
  if (layers.length === 0) return 0;
  const batchSize = Math.min(options.batchSize ?? 256, images.count);
  const batches = Math.max(1, Math.min(options.batches ?? 8, Math.floor(images.count / batchSize)));
  const order = shuffledIndices(images.count, options.seed ?? 0).slice(0, batches * batchSize);
  const sample = subsetImageSet({ name: 'precise-bn', ...images } as ImageSet, order);
  const saved = layers.map((l) => (l as unknown as MutableBn).momentum);
  try {
    for (let i = 0; i < batches; i++) {
      // Batch 1 replaces the statistics (momentum 0), batch i weighs 1/i: the running value is the mean.
      for (const l of layers) (l as unknown as MutableBn).momentum = 1 - 1 / (i + 1);
      tf.tidy(() => {
        model.apply(pixelBatch(sample, i * batchSize, batchSize), { training: true });
      });
    }
  } finally {
    layers.forEach((l, i) => ((l as unknown as MutableBn).momentum = saved[i]));
  }
  return layers.length;
}
