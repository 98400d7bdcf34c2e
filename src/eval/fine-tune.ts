// Fine-tuning with few labels: what a user pretrains for. The pretrained backbone and a new linear classifier
// are trained end to end on N labelled images per class, and the test accuracy is read beside the same
// architecture trained from random initialisation with the same labels and the same budget (MoCo, He et al.
// 2020, §4.2 transfers by fine-tuning every layer; semi-supervised protocols such as SimCLR's 1 % / 10 %
// ImageNet subsets fine-tune the whole network on a class-balanced fraction of the labels).
//
// Recipe (one for both initialisations, so the comparison isolates the starting weights): the new classifier
// first trained alone on the frozen features (headInit 'probe', "LP-FT", Kumar et al. 2022), then SGD with
// momentum 0.9 on every weight, peak lr 0.01 decayed to 0 by a per-step cosine, coupled weight decay 5e-4 (as
// torch.optim.SGD applies it), batch 64, a fixed number of steps (default 500, i.e. 53 passes over 600 images
// or 5 over 6,000), random horizontal flip and ±2-pixel shifts. BatchNorm runs in training mode with the
// library's one-node gradient (the same rewrite the trainer uses: identical numbers, faster on wasm).
//
// Why LP-FT and lr 0.01: with a random head and lr 0.05, 500 steps on 600 images over-fit (train loss 0.03) and
// ended 4 points below the linear probe of the same encoder. Fashion-MNIST, 60 labels per class, seed 0, the
// 128-d default job's encoder (2026-12-06; pretrained / random init, test %): random head lr 0.05 73.37 / 62.13;
// random head lr 0.01 74.19 / 64.88; LP-FT lr 0.05 74.61 / 62.27; LP-FT lr 0.01 77.23 / 61.69 (the linear probe:
// 77.54). The random-init network does better with a random head (lr 0.01 here; over 3 seeds at 600 labels per
// class, lr 0.05 72.45 against this recipe's 67.03): read its row against that too (docs/results.md has both).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mixSeed, shuffledIndices } from '../data/seeded-random.js';
import { rewriteBatchNorm } from '../layers/rewrite-batchnorm.js';
import { rewriteInputConvs } from '../layers/input-conv2d.js';
import { tfjsSeed } from '../random/random.js';
import { withWeightDecay } from '../step/weight-decay.js';
import { extractFeatures, pixelBatch, type LabeledImages } from './features.js';

/** Options of `fineTune`; every field has the documented default. */
export interface FineTuneArgs {
  /** The backbone whose weights start the run (pretrained, or not). Never modified: a copy is trained. */
  encoder: tfl.LayersModel;
  /**
   * Start from the encoder's architecture at a fresh random initialisation instead of its weights (the
   * baseline every pretrained result must beat). Default false.
   */
  randomInit?: boolean;
  /** The labelled training images (e.g. `stratifiedSubset(train, 60)` for 1 % of Fashion-MNIST). */
  train: LabeledImages;
  /** Held-out labelled images the accuracy is measured on. */
  test: LabeledImages;
  /** Default: 1 + the largest label in train and test. */
  numClasses?: number;
  /** Optimizer steps (the budget, equal for every initialisation); default 500. */
  steps?: number;
  /** Images per step; default 64 (at most the number of training images). */
  batchSize?: number;
  /** Peak learning rate, decayed to 0 by a per-step cosine; default 0.01 (see the file comment). */
  learningRate?: number;
  /** SGD momentum; default 0.9. */
  momentum?: number;
  /** Coupled L2 decay on every weight, g ← g + wd·θ; default 5e-4. */
  weightDecay?: number;
  /**
   * How the new classifier starts: 'random' (Glorot) or 'probe' — first trained alone on the frozen backbone's
   * features of the labelled images, then the whole network is fine-tuned from there ("LP-FT", Kumar et al. 2022:
   * a random head's large early gradients distort the pretrained features). Default 'probe'.
   */
  headInit?: 'random' | 'probe';
  /** Random horizontal flip and ±2-pixel shifts of every training image; default true. */
  augment?: boolean;
  /** Seed of the batch order, the augmentation and the classifier's (and a random-init backbone's) weights; default 0. */
  seed?: number;
  /** Images per forward pass when measuring accuracy; default 256. */
  evalBatchSize?: number;
  /**
   * Return the fine-tuned classifier (backbone + `fine_tune_classifier` dense layer) in the result instead of
   * disposing it; the caller then owns it. Its BatchNorm layers are the library's GroupBatchNormalization, so
   * loading a saved copy needs this library imported. Default false.
   */
  returnModel?: boolean;
  /** Progress messages, e.g. console.log. */
  log?: (message: string) => void;
}

export interface FineTuneResult {
  /** Accuracy in [0, 1] on the test images, BatchNorm in inference mode. */
  testAccuracy: number;
  /** Mean training loss over the last tenth of the steps (is the budget enough?). */
  finalTrainLoss: number;
  steps: number;
  seconds: number;
  /** The trained classifier, when `returnModel` was set (the caller disposes it). */
  model?: tfl.LayersModel;
}

const DEFAULTS = { steps: 500, batchSize: 64, learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4, augment: true, seed: 0, evalBatchSize: 256, headInit: 'probe' as 'random' | 'probe' };

function labelsOf(set: LabeledImages, what: string): Int32Array {
  if (!set.labels) throw new Error(`fineTune: the ${what} set has no labels (fine-tuning needs labelled images)`);
  if (set.labels.length !== set.count) throw new Error(`fineTune: ${set.labels.length} ${what} labels for ${set.count} images`);
  if (set.count === 0) throw new Error(`fineTune: the ${what} set is empty`);
  return set.labels;
}

/**
 * The training copy: the encoder's topology with BatchNorm on the one-node gradient and no gradient for the
 * input images, its weights copied by layer name unless `randomInit`, and a linear classifier on top.
 */
async function classifierFor(encoder: tfl.LayersModel, numClasses: number, randomInit: boolean, seed: number): Promise<tfl.LayersModel> {
  // Through JSON: the serialized config holds undefined fields the deserializer cannot read.
  const topology = JSON.parse(JSON.stringify(encoder.toJSON(null, false))) as tf.serialization.ConfigDict;
  rewriteBatchNorm(topology, { groups: 1, unsupported: 'keep', label: 'fineTune' });
  rewriteInputConvs(topology);
  const backbone = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(JSON.stringify(topology)) as tf.serialization.ConfigDict });
  if (!randomInit) {
    for (const layer of encoder.layers) {
      const weights = layer.getWeights();
      if (weights.length > 0) backbone.getLayer(layer.name).setWeights(weights);
    }
  }
  let features = backbone.outputs[0];
  if (features.shape.length > 2) features = tfl.layers.flatten({ name: 'fine_tune_flatten' }).apply(features) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .dense({ units: numClasses, name: 'fine_tune_classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: tfjsSeed(mixSeed(seed, 7)) }) })
    .apply(features) as tfl.SymbolicTensor;
  return tfl.model({ inputs: backbone.inputs, outputs: logits, name: `${encoder.name}_fine_tune` });
}

/** A batch of training images, flipped and shifted per image (seeded), as float pixels in [0, 1]. */
function augmentBatch(x: tf.Tensor4D, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const flip = tf.less(tf.randomUniform([n, 1, 1, 1], 0, 1, 'float32', seed), 0.5);
    const flipped = tf.where(flip, tf.reverse(x, 2), x);
    // ±2-pixel shifts: pad by 2 with zeros and crop an h×w window at a random integer offset per image
    // (cropAndResize at integer boxes of the same size copies pixels exactly).
    const pad = 2;
    const padded = tf.pad(flipped, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
    const offsets = tf.randomUniformInt([n, 2], 0, 2 * pad + 1, seed + 1);
    const dy = tf.div(tf.cast(tf.slice(offsets, [0, 0], [n, 1]), 'float32'), h + 2 * pad - 1);
    const dx = tf.div(tf.cast(tf.slice(offsets, [0, 1], [n, 1]), 'float32'), w + 2 * pad - 1);
    const boxes = tf.concat([dy, dx, tf.add(dy, (h - 1) / (h + 2 * pad - 1)), tf.add(dx, (w - 1) / (w + 2 * pad - 1))], 1) as tf.Tensor2D;
    return tf.image.cropAndResize(padded, boxes, tf.range(0, n, 1, 'int32') as tf.Tensor1D, [h, w], 'nearest');
  });
}

/** Gather images by index into one batch (uint8 → float in [0, 1]). */
function gatherBatch(set: LabeledImages, indices: ArrayLike<number>): tf.Tensor4D {
  const per = set.height * set.width * set.channels;
  const out = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const src = set.images.subarray(indices[i] * per, (indices[i] + 1) * per);
    for (let j = 0; j < per; j++) out[i * per + j] = src[j] / 255;
  }
  return tf.tensor4d(out, [indices.length, set.height, set.width, set.channels]);
}

/** Steps and learning rate of the head-only stage of headInit 'probe' (full batch, Adam: no scale to tune). */
const HEAD_STEPS = 300;
const HEAD_LEARNING_RATE = 0.01;

/**
 * headInit 'probe': the classifier layer alone trained on the frozen backbone's features of every labelled
 * image (inference-mode BatchNorm, no augmentation), full batch, from its initial weights.
 */
function fitHeadOnFeatures(model: tfl.LayersModel, set: LabeledImages, labels: Int32Array, numClasses: number, batchSize: number): void {
  const head = model.getLayer('fine_tune_classifier');
  const features = tfl.model({ inputs: model.inputs, outputs: head.input as tfl.SymbolicTensor });
  // The head's own input, unnormalised: the classifier sees exactly these values when the network runs.
  const x = extractFeatures(features, set, { batchSize, normalize: false });
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses));
  const [kernel, bias] = head.getWeights().map((w) => tf.variable(w));
  const optimizer = tf.train.adam(HEAD_LEARNING_RATE);
  try {
    for (let i = 0; i < HEAD_STEPS; i++) {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, kernel), bias)) as tf.Scalar);
    }
    head.setWeights([kernel, bias]);
  } finally {
    optimizer.dispose();
    tf.dispose([x, y, kernel, bias]);
  }
}

/** Top-1 accuracy of a classifier on a labelled set, in inference mode, with one host read. */
export function classifierAccuracy(model: tfl.LayersModel, set: LabeledImages, batchSize = 256): number {
  const labels = labelsOf(set, 'test');
  let correct = tf.scalar(0, 'int32');
  try {
    for (let start = 0; start < set.count; start += batchSize) {
      const n = Math.min(batchSize, set.count - start);
      const next = tf.tidy(() => {
        const logits = model.apply(pixelBatch(set, start, n), { training: false }) as tf.Tensor2D;
        const hits = tf.equal(tf.argMax(logits, 1), tf.tensor1d(labels.subarray(start, start + n), 'int32'));
        return tf.add(correct, tf.sum(tf.cast(hits, 'int32'))) as tf.Scalar;
      });
      correct.dispose();
      correct = next;
    }
    return (correct.dataSync()[0] as number) / set.count;
  } finally {
    correct.dispose();
  }
}

/**
 * Fine-tune a copy of `encoder` plus a new linear classifier end to end on labelled images, and measure test
 * accuracy. Every tensor it makes is freed; the encoder is left as it was.
 *
 * @example
 * const few = stratifiedSubset(data.train, 60, seed);            // 1 % of Fashion-MNIST's labels
 * const pre = await fineTune({ encoder, train: few, test: data.test, seed });
 * const base = await fineTune({ encoder, randomInit: true, train: few, test: data.test, seed });
 * console.log(pre.testAccuracy, base.testAccuracy);
 */
export async function fineTune(args: FineTuneArgs): Promise<FineTuneResult> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & FineTuneArgs;
  const trainLabels = labelsOf(o.train, 'train');
  const testLabels = labelsOf(o.test, 'test');
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new RangeError(`fineTune: steps must be a whole number ≥ 0, got ${o.steps}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`fineTune: batchSize must be a whole number ≥ 1, got ${o.batchSize}`);
  if (!(o.learningRate > 0)) throw new RangeError(`fineTune: learningRate must be > 0, got ${o.learningRate}`);
  let maxLabel = 0;
  for (const l of trainLabels) maxLabel = Math.max(maxLabel, l);
  for (const l of testLabels) maxLabel = Math.max(maxLabel, l);
  const numClasses = o.numClasses ?? maxLabel + 1;
  const batch = Math.min(o.batchSize, o.train.count);
  const log = o.log ?? (() => {});
  const t0 = Date.now();

  if (o.headInit !== 'random' && o.headInit !== 'probe') throw new RangeError(`fineTune: headInit must be 'random' or 'probe', got '${String(o.headInit)}'`);
  const model = await classifierFor(o.encoder, numClasses, o.randomInit ?? false, o.seed);
  if (o.headInit === 'probe') fitHeadOnFeatures(model, o.train, trainLabels, numClasses, o.evalBatchSize);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.momentum(o.learningRate, o.momentum);
  const losses: tf.Scalar[] = [];
  const tail = Math.max(1, Math.ceil(o.steps / 10));
  try {
    let order: Int32Array = new Int32Array(0);
    let cursor = Infinity;
    let pass = 0;
    for (let step = 0; step < o.steps; step++) {
      if (cursor + batch > o.train.count) {
        order = shuffledIndices(o.train.count, mixSeed(o.seed, 1000 + pass++));
        cursor = 0;
      }
      const idx = Array.from(order.slice(cursor, cursor + batch));
      cursor += batch;
      optimizer.setLearningRate(0.5 * o.learningRate * (1 + Math.cos((Math.PI * step) / o.steps)));
      const loss = tf.tidy(() => {
        const raw = gatherBatch(o.train, idx);
        const x = o.augment ? augmentBatch(raw, tfjsSeed(mixSeed(o.seed, 2 * step + 1))) : raw;
        const y = tf.oneHot(tf.tensor1d(idx.map((i) => trainLabels[i]), 'int32'), numClasses);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor2D) as tf.Scalar, variables);
        optimizer.applyGradients(withWeightDecay(grads, variables, o.weightDecay) as unknown as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
        return value;
      }) as tf.Scalar;
      // Losses stay on the device: no host read inside the loop.
      if (step >= o.steps - tail) losses.push(loss);
      else loss.dispose();
    }
    let finalTrainLoss = NaN;
    if (losses.length) {
      const mean = tf.tidy(() => tf.mean(tf.stack(losses)));
      finalTrainLoss = mean.dataSync()[0];
      mean.dispose();
    }
    const testAccuracy = classifierAccuracy(model, o.test, o.evalBatchSize);
    const seconds = (Date.now() - t0) / 1000;
    log(`fine-tune (${o.randomInit ? 'random init' : 'pretrained'}, ${o.train.count} labels, ${o.steps} steps): test ${(100 * testAccuracy).toFixed(2)} %, train loss ${finalTrainLoss.toFixed(3)}, ${seconds.toFixed(1)} s`);
    return { testAccuracy, finalTrainLoss, steps: o.steps, seconds, ...(o.returnModel ? { model } : {}) };
  } finally {
    tf.dispose(losses);
    optimizer.dispose();
    // MomentumOptimizer.dispose frees its accumulators and momentum scalar but not the learning-rate scalar
    // its SGD base keeps (tfjs-core 4.x): free that too, or each fine-tune leaks one tensor.
    tf.SGDOptimizer.prototype.dispose.call(optimizer);
    if (!o.returnModel) model.dispose();
  }
}
