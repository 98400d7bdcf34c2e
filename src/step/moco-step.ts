// One MoCo training step, the lines of Algorithm 1 of He et al. 2020 (Momentum Contrast):
//
//   x_q, x_k = aug(x), aug(x)            views                     (augmentation strategy)
//   k = f_k.forward(x_k).detach()        positive keys             (key encoder / query encoder / memory bank)
//   q = f_q.forward(x_q)                 queries, in the grad scope
//   l_pos = q·k,  l_neg = q·queue        logits                    (dictionary strategy)
//   loss = CE([l_pos, l_neg] / τ)        loss, then backward       (loss strategy)
//   update(f_q.params)                   SGD with weight decay
//   f_k.params = m·f_k + (1 − m)·f_q     encoder update, eq. 2     (update strategy)
//   enqueue(queue, k); dequeue(queue)    dictionary update, §3.2   (dictionary strategy)
//
// The keys come before the queries here: tfjs has no stop-gradient (`detach`), so keys that must not carry a
// gradient are computed outside the gradient scope, before it opens.
// Every line is a strategy call, so the same step is MoCo, end-to-end or a memory bank. The step is split
// where its executors (src/execution) need to cut it: `lossAndGradients` can run on part of a batch
// (micro-batches, a worker's share) and `update` runs once on the summed gradients.
import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from '../math/l2-normalize.js';
import type { StrategyFamily, StrategyOf } from '../registry/strategy-family.js';
import { DEFAULT_CAPABILITIES, type RunCapabilities } from '../strategies/capabilities.js';
import type { StepContext } from '../strategies/step-context.js';
import type { MocoNetworks } from './moco-networks.js';
import { readStep, type StepReading } from './step-reading.js';
import { withWeightDecay } from './weight-decay.js';

/** The run's strategy instances, one per family. */
export type Strategies = { [F in StrategyFamily]: StrategyOf[F] };

/** A batch as a step takes it: images [N,H,W,C] (float32 in [0,1], or int32 0-255) and data-set indices if any. */
export interface StepBatch {
  readonly images: tf.Tensor4D;
  readonly indices?: tf.Tensor1D;
}

/** The two augmented views of a batch: x_q and x_k of Algorithm 1. */
export type Views = [tf.Tensor4D, tf.Tensor4D];

/**
 * Loss, accuracy and gradients of (part of) a batch, with the queries and positive keys per view pair (one
 * pair; two for a symmetric loss, whose second pair swaps the views). A type so that tf.tidy can return it.
 */
export type StepGradients = {
  /** Gradients of the loss by f_q's variable name (before weight decay). */
  grads: tf.NamedTensorMap;
  loss: tf.Scalar;
  accuracy: tf.Scalar;
  keys: tf.Tensor2D[];
  queries: tf.Tensor2D[];
};

/**
 * The MoCo step over a run's networks and strategies. `fit` runs it through an executor; `moco.trainingStep`
 * gives it for driving steps by hand.
 *
 * @example
 * const step = moco.trainingStep!;
 * const stats = step.run({ images }, { epoch: 0, step: 0, progress: 0, random }, 0.03);
 * const [loss, accuracy] = stats.dataSync();
 * stats.dispose();
 */
export class MocoStep {
  constructor(
    readonly networks: MocoNetworks,
    readonly strategies: Strategies,
    /** L2 weight decay added to every gradient (torch.optim.SGD's weight_decay). */
    readonly weightDecay: number,
    /** What the strategies declared they can do or need (the step asks these, never ids). */
    readonly capabilities: RunCapabilities = DEFAULT_CAPABILITIES,
  ) {}

  /** K of the last step's negatives: the dictionary's size for one that keeps no `stats`. */
  lastNegatives = 0;

  /** A whole step on one batch, on this thread. Returns [loss, accuracy] as one tensor, to read once. */
  run(batch: StepBatch, ctx: StepContext, learningRate: number): tf.Tensor1D {
    return tf.tidy(() => {
      const views = this.views(batch.images, ctx);
      const result = this.lossAndGradients(views, batch.indices, ctx);
      this.update(result, batch.indices, ctx, learningRate);
      return tf.stack([result.loss, result.accuracy]) as tf.Tensor1D;
    });
  }

  /**
   * Read the step's numbers once (step-reading.ts) and apply the update only if they are all finite: a diverged
   * step leaves encoders, optimizer and dictionary as they were. The executors end every step here.
   */
  readAndUpdate(result: StepGradients, indices: tf.Tensor1D | undefined, ctx: StepContext, learningRate: number): StepReading {
    const reading = readStep(result.loss, result.accuracy, result.grads, [this.networks.query, this.networks.key]);
    if (reading.finite) this.update(result, indices, ctx, learningRate);
    return reading;
  }

  /** x_q, x_k = aug(x), aug(x): two independent augmentations of the batch (float32 in [0,1]). */
  views(images: tf.Tensor4D, ctx: StepContext): Views {
    const x = images.dtype === 'float32' ? images : (tf.div(tf.cast(images, 'float32'), 255) as tf.Tensor4D);
    return this.strategies.augmentation.views(x, ctx);
  }

  /**
   * From the keys to `loss.backward()` on (part of) a batch. `encodedKeys`: positive keys already encoded
   * elsewhere (per view pair), as data-parallel Shuffle BN does across workers. Call it inside `tf.tidy`, which
   * frees the intermediates (the executors do).
   */
  lossAndGradients(views: Views, indices: tf.Tensor1D | undefined, ctx: StepContext, encodedKeys?: tf.Tensor2D[]): StepGradients {
    const { query } = this.networks;
    const { dictionary, loss } = this.strategies;
    const [v1, v2] = views;
    const pairs: Views[] = this.capabilities.loss.symmetric ? [[v1, v2], [v2, v1]] : [[v1, v2]];
    // k.detach(): tfjs has no stop-gradient, so constant keys are computed before, outside, the grad scope.
    const constantKeys = pairs.map(([, keyView], i) => encodedKeys?.[i] ?? this.positiveKeys(keyView, indices, ctx));
    const queries: tf.Tensor2D[] = [];
    const keys: tf.Tensor2D[] = [];
    const accuracies: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      let total = tf.scalar(0);
      pairs.forEach(([queryView, keyView], i) => {
        const q = l2Normalize(query.apply(queryView, { training: true }) as tf.Tensor2D);
        // End-to-end (keySource 'query-encoder'): the keys come from f_q itself, with gradient.
        const k = constantKeys[i] ?? l2Normalize(query.apply(keyView, { training: true }) as tf.Tensor2D);
        const positive = tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D;
        const negatives = dictionary.negativeSimilarities(q, k, ctx, indices);
        this.lastNegatives = negatives.shape[1];
        const out = loss.compute(positive, negatives);
        total = tf.add(total, out.loss);
        // Tensors made in the grad scope die with it unless kept; `adopt` below hands them to the caller's scope.
        accuracies.push(tf.keep(out.accuracy));
        queries.push(tf.keep(q));
        keys.push(constantKeys[i] ?? tf.keep(k));
      });
      return total;
    }, this.networks.trainable as tf.Variable[]);
    const keptInGradScope = (i: number) => constantKeys[i] === undefined;
    const ownKeys = keys.map((k, i) => (keptInGradScope(i) ? adopt(k) : k));
    const ownQueries = queries.map(adopt);
    const ownAccuracies = accuracies.map(adopt);
    const accuracy = ownAccuracies.length === 1 ? ownAccuracies[0] : (tf.mean(tf.stack(ownAccuracies)) as tf.Scalar);
    return { grads, loss: value, accuracy, queries: ownQueries, keys: ownKeys };
  }

  /**
   * Positive keys that are constants for the loss: the dictionary's stored ones (memory bank), else f_k on the
   * key view through the normalization variant (Shuffle BN, §3.3), else none (the query encoder makes them).
   */
  private positiveKeys(keyView: tf.Tensor4D, indices: tf.Tensor1D | undefined, ctx: StepContext): tf.Tensor2D | undefined {
    const { dictionary, normalization } = this.strategies;
    if (this.capabilities.dictionary.providesPositives) return dictionary.positives!(indices!, ctx);
    const key = this.networks.key;
    if (!key) return undefined;
    return l2Normalize(normalization.encodeKeys((x) => key.apply(x, { training: true }) as tf.Tensor2D, keyView, ctx));
  }

  /**
   * f_k on key views (one per view pair), with BatchNorm over these views alone and no shuffle: one worker's
   * rows of a key batch that was shuffled across workers (§3.3).
   */
  encodeKeys(keyViews: tf.Tensor4D[]): tf.Tensor2D[] {
    const key = this.networks.key;
    if (!key) throw new Error('encodeKeys: this run has no key encoder');
    return keyViews.map((v) => l2Normalize(key.apply(v, { training: true }) as tf.Tensor2D));
  }

  /**
   * The update after the gradients of the whole batch are in: SGD on f_q, then f_k follows (eq. 2), then the
   * dictionary takes the keys (§3.2; pair by pair, with the batch's indices repeated to stay aligned).
   */
  update(result: Pick<StepGradients, 'grads' | 'keys' | 'queries'>, indices: tf.Tensor1D | undefined, ctx: StepContext, learningRate: number): void {
    const { optimizer, key, trainable, weightPairs } = this.networks;
    const { update, dictionary } = this.strategies;
    tf.tidy(() => {
      optimizer.setLearningRate(learningRate);
      const decayed = withWeightDecay(result.grads, trainable, this.weightDecay);
      optimizer.applyGradients(decayed as unknown as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
      if (key) update.apply?.(weightPairs, ctx);
      const pairs = result.keys.length;
      const pairIndices = indices && pairs > 1 ? (tf.concat(Array.from({ length: pairs }, () => indices)) as tf.Tensor1D) : indices;
      dictionary.update?.({ keys: concatRows(result.keys), queries: concatRows(result.queries), indices: pairIndices }, ctx);
    });
  }
}

/** Rows of several [n_i, d] tensors, in order (the tensor itself when there is one). */
export function concatRows(parts: tf.Tensor2D[]): tf.Tensor2D {
  return parts.length === 1 ? parts[0] : (tf.concat(parts) as tf.Tensor2D);
}

/** A tensor kept out of every scope, handed back to the current one (same data, no copy). */
function adopt<T extends tf.Tensor>(kept: T): T {
  const owned = tf.clone(kept);
  kept.dispose();
  return owned;
}
