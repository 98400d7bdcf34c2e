// The one evaluation every ablation cell gets: weighted kNN (Wu et al. 2018; k 200, τ 0.1) of the frozen
// backbone's pooled features, a labelled memory set against labelled queries, twice: with the BatchNorm
// running statistics the run left (what a kNN monitor usually reads) and after re-estimating them with the
// final weights ("precise BN", see precise-bn.ts), the number the studies compare.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSet } from '../../src/data/image-set.js';
import { extractFeatures, type LabeledImages } from '../../src/eval/features.js';
import { knnAccuracy } from '../../src/eval/knn-classifier.js';
import { recomputeBatchNormStatistics, type PreciseBnOptions } from './precise-bn.js';

export interface KnnSettings {
  /** Neighbours that vote; default 200. */
  readonly k?: number;
  /** Vote temperature; default 0.1. */
  readonly temperature?: number;
  /** Images per forward pass; default 256. */
  readonly batchSize?: number;
}

/** A labelled memory set and its queries. */
export interface KnnSets {
  readonly train: LabeledImages;
  readonly test: LabeledImages;
}

/** Where and how the BatchNorm statistics are re-estimated before the compared kNN. */
export interface PreciseBnSettings extends PreciseBnOptions {
  /** Unaugmented images of the pretraining set. */
  readonly images: ImageSet | LabeledImages;
}

export interface EncoderKnn {
  /** After re-estimating the BatchNorm statistics: the number the studies compare. */
  readonly knn: number;
  /** With the running statistics as the run left them. */
  readonly knnRunningBn: number;
}

function maxLabel(set: LabeledImages): number {
  if (!set.labels) throw new Error('ablation kNN: the evaluation sets need labels');
  let m = 0;
  for (const l of set.labels) m = Math.max(m, l);
  return m;
}

/** kNN accuracy in [0, 1] of `model`'s features (inference mode). The model is not changed. */
export async function knnScore(model: tfl.LayersModel, sets: KnnSets, settings: KnnSettings = {}): Promise<number> {
  const numClasses = 1 + Math.max(maxLabel(sets.train), maxLabel(sets.test));
  const featureOptions = { batchSize: settings.batchSize ?? 256, normalize: false };
  const trainFeatures = extractFeatures(model, sets.train, featureOptions);
  let testFeatures: tf.Tensor2D | undefined;
  try {
    testFeatures = extractFeatures(model, sets.test, featureOptions);
    return await knnAccuracy({
      k: settings.k ?? 200,
      temperature: settings.temperature ?? 0.1,
      trainFeatures,
      trainLabels: sets.train.labels!,
      testFeatures,
      testLabels: sets.test.labels!,
      numClasses,
    });
  } finally {
    trainFeatures.dispose();
    testFeatures?.dispose();
  }
}

/**
 * Both kNN numbers of an encoder: first with its running BatchNorm statistics, then after re-estimating them.
 * The re-estimation overwrites the model's running statistics: pass a model whose statistics may change (a
 * copy, or one that is about to be discarded or overwritten).
 */
export async function encoderKnn(model: tfl.LayersModel, sets: KnnSets, settings: KnnSettings, bn: PreciseBnSettings): Promise<EncoderKnn> {
  const knnRunningBn = await knnScore(model, sets, settings);
  const layers = recomputeBatchNormStatistics(model, bn.images, bn);
  const knn = layers > 0 ? await knnScore(model, sets, settings) : knnRunningBn;
  return { knn, knnRunningBn };
}
