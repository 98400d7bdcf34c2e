// The library harness of `npm run bench`: createMoco(...) over the chosen backbone, then
// its training step timed step by step (the step fit() runs per batch on one thread, micro-batched if asked).
//
// The part breakdown comes from `instrumentedTrainStep` below: a benchmark-only copy of
// MocoStep.run (src/step/moco-step.ts) with a stopwatch lap after each part. The
// cpu and wasm backends execute every kernel synchronously inside the op call, so a lap closes
// exactly when its part's kernels have run; no extra device syncs are inserted. Forward and
// backward are separated by laps inside the variableGrads closure (the closure is the forward;
// what variableGrads does after it returns is the backward). The copy's median total is reported
// next to the real step's, so a drift between the two (src/ is being edited) shows.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createMoco, l2Normalize, learningRateAt, lossAndGradientsInParts, Random, withWeightDecay, type Moco, type StepContext } from '../src/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { inputShape, PartTimer, type CaseSpec, type Parts } from './common.js';

export interface Harness {
  /** One full training step; returns the loss (read back to the host). */
  step(i: number): number;
  /** The same step with a lap per part. */
  stepWithParts(i: number): { loss: number; parts: Parts };
  /** The dictionary head alone: fwd + bwd to q, ms (median of a few). */
  headFwdBwdMs(): number;
  dispose(): void;
}

export async function libraryHarness(backbone: tfl.LayersModel, spec: CaseSpec, norm: 'fast-bn' | 'batchnorm' | 'shuffle-bn' = 'fast-bn'): Promise<Harness> {
  const moco = createMoco({
    backbone,
    plugins: builtinPlugins,
    config: {
      seed: 1,
      microBatch: spec.microBatch ?? 0,
      dictionary: { id: 'queue', size: spec.queue },
      augmentation: { id: 'crop-flip' },
      normalization: norm === 'shuffle-bn' ? { id: 'shuffle-bn', groups: spec.groups } : { id: 'batchnorm', gradient: norm === 'fast-bn' ? 'hand-written' : 'autodiff' },
      update: { id: 'momentum', keyEncoderMomentum: 0.999 },
      loss: { id: 'infonce', temperature: 0.07 },
    },
  });
  await moco.build();
  const trainingStep = moco.trainingStep!;
  const random = new Random(1);
  moco.on('warning').subscribe((e) => process.stderr.write(`  warning: ${e.message}\n`));
  moco.prepareDictionary({ batchSize: spec.batch });
  const images = tf.randomUniform(inputShape(spec.model, spec.batch), 0, 1, 'float32', 7) as tf.Tensor4D;
  const ctx = (i: number): StepContext => ({ epoch: 0, step: i, progress: 0, random });
  const learningRate = learningRateAt(moco.config.optimizer as Parameters<typeof learningRateAt>[0], 0);
  return {
    // The micro-batch executor's step, synchronously: micro-batches of spec.microBatch (0: the whole batch).
    step: (i) => {
      const stats = tf.tidy(() => {
        const views = trainingStep.views(images, ctx(i));
        const result = lossAndGradientsInParts(trainingStep, views, undefined, ctx(i), { batchSize: spec.batch, microBatch: spec.microBatch ?? 0 });
        trainingStep.update(result, undefined, ctx(i), learningRate);
        return result.loss;
      });
      const [loss] = stats.dataSync();
      stats.dispose();
      return loss;
    },
    // The instrumented copy has no micro-batching: part times only for whole-batch steps.
    stepWithParts: (i) => {
      if (spec.microBatch) throw new Error('part timing has no micro-batching: run this case with partSteps 0');
      return instrumentedTrainStep(moco, images, ctx(i), 0);
    },
    headFwdBwdMs: () => headOnly(moco, spec.batch),
    dispose: () => {
      images.dispose();
      moco.dispose();
    },
  };
}

/** The run's embedding dimension d (the head's output). */
function headDim(moco: Moco): number {
  return (moco.config.head as { dim: number }).dim;
}

/** Benchmark-only copy of MocoStep.run with laps (see the file comment). Images only, no indices. */
export function instrumentedTrainStep(moco: Moco, images: tf.Tensor4D, ctx: StepContext, progress: number): { loss: number; parts: Parts } {
  const { networks, strategies: s, weightDecay } = moco.trainingStep!;
  const timer = new PartTimer();
  const kept: tf.Tensor[] = [];
  networks.optimizer.setLearningRate(learningRateAt(moco.config.optimizer as Parameters<typeof learningRateAt>[0], progress));
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(tf.keep(t));
    return t;
  };
  try {
    timer.reset();
    const stats = tf.tidy(() => {
      const x = images;
      const [v1, v2] = s.augmentation.views(x, ctx);
      timer.lap('augment');
      const pairs: [tf.Tensor4D, tf.Tensor4D][] = moco.trainingStep!.capabilities.loss.symmetric ? [[v1, v2], [v2, v1]] : [[v1, v2]];
      const key = networks.key!;
      const constantKeys = pairs.map(([, keyView]) =>
        l2Normalize(s.normalization.encodeKeys((v) => key.apply(v, { training: true }) as tf.Tensor2D, keyView, ctx)),
      );
      timer.lap('keyForward');
      const queries: tf.Tensor2D[] = [];
      const keys: tf.Tensor2D[] = [];
      const accuracies: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        let total = tf.scalar(0);
        pairs.forEach(([queryView], i) => {
          const q = l2Normalize(networks.query.apply(queryView, { training: true }) as tf.Tensor2D);
          timer.lap('queryForward');
          const k = constantKeys[i];
          const positive = tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D;
          const negatives = s.dictionary.negativeSimilarities(q, k, ctx);
          const out = s.loss.compute(positive, negatives);
          total = tf.add(total, out.loss);
          accuracies.push(keep(out.accuracy));
          queries.push(keep(q));
          keys.push(keep(k));
          timer.lap('lossDictionary');
        });
        return total;
      }, networks.trainable as tf.Variable[]);
      timer.lap('backward');
      const update = withWeightDecay(grads, networks.trainable, weightDecay);
      networks.optimizer.applyGradients(update as unknown as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
      timer.lap('optimizer');
      s.update.apply!(networks.weightPairs, ctx);
      timer.lap('ema');
      s.dictionary.update!(
        { keys: keys.length === 1 ? keys[0] : tf.concat(keys), queries: queries.length === 1 ? queries[0] : tf.concat(queries) },
        ctx,
      );
      timer.lap('enqueue');
      return tf.stack([value, tf.mean(tf.stack(accuracies))]);
    });
    timer.lap('other');
    const [loss] = stats.dataSync();
    stats.dispose();
    timer.lap('readback');
    return { loss, parts: timer.parts };
  } finally {
    tf.dispose(kept);
  }
}

/** The library's dictionary + loss on random unit q, k: forward and backward to q (ms, median of 5). */
function headOnly(moco: Moco, batch: number): number {
  const s = moco.strategies;
  const dim = headDim(moco);
  const ctx: StepContext = { epoch: 0, step: 0, progress: 0, random: new Random(2) };
  const q0 = tf.tidy(() => l2Normalize(tf.randomNormal([batch, dim], 0, 1, 'float32', 3)));
  const k = tf.tidy(() => l2Normalize(tf.randomNormal([batch, dim], 0, 1, 'float32', 4))) as tf.Tensor2D;
  const f = (q: tf.Tensor) => {
    const positive = tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D;
    return s.loss.compute(positive, s.dictionary.negativeSimilarities(q as tf.Tensor2D, k, ctx)).loss;
  };
  const g = tf.grad(f);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const d = g(q0);
    d.dataSync();
    if (i > 0) times.push(performance.now() - t0);
    d.dispose();
  }
  tf.dispose([q0, k]);
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
