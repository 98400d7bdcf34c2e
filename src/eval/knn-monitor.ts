// A kNN monitor during pretraining: every N epochs, the backbone's frozen features of a fixed labelled subset
// are classified by weighted kNN (Wu et al. 2018; the MoCo CIFAR demo's monitor), and the accuracy is
// published as an `evaluation` event, beside the same kNN on raw pixels and on the architecture at random
// initialisation (computed once). It runs as an epoch task, so it never races a training step.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { freshCopy } from './baselines.js';
import { extractFeatures, rawPixelFeatures, type LabeledImages } from './features.js';
import { knnAccuracy } from './knn-classifier.js';
import type { Moco } from '../moco.js';
import type { EpochTaskContext } from '../training/epoch-task.js';

export interface KnnMonitorOptions {
  /** Evaluate after every `every`-th epoch (and after the last one). */
  every: number;
  /** The kNN memory: labelled images (a small stratified subset keeps the monitor cheap). */
  train: LabeledImages;
  /** The queries: labelled images, disjoint from `train`. */
  test: LabeledImages;
  /** Neighbours; default 200 (clamped to the memory size). */
  k?: number;
  /** Vote temperature; default 0.1. */
  temperature?: number;
  /** Images per forward pass; default 256. */
  batchSize?: number;
  /** Also report kNN on raw pixels and at random init (once, cached); default true. */
  baselines?: boolean;
}

export interface KnnMonitor {
  /** Stop monitoring. */
  remove(): void;
  /** The baselines, once computed. */
  readonly baselines: Readonly<Record<string, number>> | undefined;
  /** Run one evaluation now (also what the epoch task does). */
  evaluate(): Promise<number>;
}

/**
 * Attach a kNN monitor to a run: an epoch task that emits `{ type: 'evaluation', metric: 'knn', accuracy,
 * baselines: { rawPixels, randomInit } }` after every `every`-th epoch and after the last.
 */
export function attachKnnMonitor(moco: Moco, options: KnnMonitorOptions): KnnMonitor {
  if (!Number.isInteger(options.every) || options.every < 1) throw new RangeError(`knn monitor: every must be a positive integer, got ${options.every}`);
  const numClasses = 1 + Math.max(maxLabel(options.train), maxLabel(options.test));
  const knn = { k: options.k ?? 200, temperature: options.temperature ?? 0.1 };
  const featureOpts = { batchSize: options.batchSize ?? 256, normalize: false };
  let baselines: Record<string, number> | undefined;

  const score = async (trainF: tf.Tensor2D, testF: tf.Tensor2D): Promise<number> => {
    try {
      return await knnAccuracy({ ...knn, trainFeatures: trainF, trainLabels: options.train.labels!, testFeatures: testF, testLabels: options.test.labels!, numClasses });
    } finally {
      trainF.dispose();
      testF.dispose();
    }
  };
  const encoderScore = async (model: tfl.LayersModel) => {
    const trainF = extractFeatures(model, options.train, featureOpts);
    let testF: tf.Tensor2D;
    try {
      testF = extractFeatures(model, options.test, featureOpts);
    } catch (err) {
      trainF.dispose();
      throw err;
    }
    return score(trainF, testF);
  };
  const computeBaselines = async () => {
    const out: Record<string, number> = {};
    out.rawPixels = await score(rawPixelFeatures(options.train), rawPixelFeatures(options.test));
    const fresh = await freshCopy(moco.backbone);
    try {
      out.randomInit = await encoderScore(fresh);
    } finally {
      fresh.dispose();
    }
    return out;
  };

  const evaluate = async () => {
    if ((options.baselines ?? true) && !baselines) baselines = await computeBaselines();
    return encoderScore(moco.exportEncoder());
  };

  const task = async (ctx: EpochTaskContext) => {
    const done = ctx.epoch + 1;
    if (done % options.every !== 0 && done !== ctx.epochs) return;
    const accuracy = await evaluate();
    ctx.emit({ type: 'evaluation', epoch: ctx.epoch, step: ctx.step, metric: 'knn', accuracy, ...(baselines ? { baselines: { ...baselines } } : {}) });
  };
  const remove = moco.addEpochTask(task);
  return {
    remove,
    get baselines() {
      return baselines;
    },
    evaluate,
  };
}

function maxLabel(set: LabeledImages): number {
  if (!set.labels) throw new Error('knn monitor: the monitor sets need labels');
  let m = 0;
  for (const l of set.labels) m = Math.max(m, l);
  return m;
}
