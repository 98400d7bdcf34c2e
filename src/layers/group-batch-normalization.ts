import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { channelAffine, channelMean } from './channel-ops.js';
import { groupAffine } from '../kernels/group-affine.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Shape } from '@tensorflow/tfjs-layers/dist/keras_format/common.js';

export interface GroupBatchNormalizationArgs {
  /** Sub-batches whose statistics are computed separately: the paper's GPUs (Sec. 3.3). Default 8. */
  groups?: number;
  /** Moving-average decay of the inference statistics, tfjs convention (0.99 = PyTorch's 0.01). Default 0.99. */
  momentum?: number;
  /** Added to the variance. Default 1e-3 (tfjs BatchNormalization's default). */
  epsilon?: number;
  name?: string;
  trainable?: boolean;
  inputShape?: Shape;
  batchInputShape?: Shape;
  dtype?: tf.DataType;
}

/** Sizes of `groups` near-equal consecutive slices of `n` items, larger ones first. */
export function groupSizes(n: number, groups: number): number[] {
  const g = Math.max(1, Math.min(groups, n));
  const base = Math.floor(n / g);
  const extra = n % g;
  return Array.from({ length: g }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Training-mode BatchNorm of `grouped` ([G, M, ..., C]) with per-group statistics over every axis but the
 * first and last, as one autodiff node with a hand-written gradient (the textbook BatchNorm backward,
 * Ioffe & Szegedy 2015, Sec. 3, applied per group):
 *
 *     x̂ = (x − μ_g)/σ_g,  y = γ·x̂ + β
 *     ∂x = γ/σ_g · (∂y − mean_g(∂y) − x̂ · mean_g(∂y·x̂)),   ∂γ = Σ ∂y·x̂,   ∂β = Σ ∂y
 *
 * Why: tfjs differentiates tf.moments and the normalisation op by op, tiling 1/σ and building ones-shaped
 * tensors to the full activation shape; on wasm that made BatchNorm's backward the largest part of a
 * training step. This node runs about half the kernels (bench: `npm run bench -- --harness plain-fastbn`), and
 * its reductions and per-channel maps go through channel-ops.ts (pooling and 1x1 depthwise convolutions,
 * several times faster than tf.mean and broadcast arithmetic on wasm).
 * The statistics are computed inside the node, so autodiff never visits them; they are handed to the caller
 * through `stats` for the moving averages, kept (tf.keep): the caller must dispose them.
 */
function groupNormalize(
  grouped: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  stats: { mean?: tf.Tensor; variance?: tf.Tensor },
): tf.Tensor {
  const groups = grouped.shape[0];
  const channels = grouped.shape[grouped.rank - 1];
  const perGroup = grouped.size / (groups * channels);
  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // Two-pass statistics (mean, then mean of squared deviations), as tf.moments does: E[x²] − μ²
    // would lose digits when |μ| ≫ σ. With one group every per-group op is a per-channel one, so it
    // takes channelAffine's fast path; several groups take groupAffine (one kernel, not a broadcast op).
    const mean = channelMean(x, groups);
    const centred = groups === 1 ? channelAffine(x, tf.onesLike(gamma), tf.neg(mean)) : groupAffine(x, groups, tf.onesLike(mean), tf.neg(mean));
    const variance = channelMean(tf.square(centred), groups);
    // Kept for the moving averages (the caller disposes them); [G, C].
    stats.mean = tf.keep(mean);
    stats.variance = tf.keep(variance);
    const inv = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = groups === 1 ? channelAffine(centred, inv) : groupAffine(centred, groups, inv, tf.zerosLike(inv));
    save([xhat, inv, g]);
    return {
      value: channelAffine(xhat, g, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, invStd, gs] = saved;
        const dbetaG = tf.mul(channelMean(dy, groups), perGroup); // [G, C]
        const dgammaG = tf.mul(channelMean(tf.mul(dy, xh), groups), perGroup);
        // ∂x = a·∂y + b·x̂ + c per group and channel: a = γ/σ, b = −a·Σ(∂y·x̂)/m, c = −a·Σ∂y/m.
        const a = tf.mul(invStd, gs);
        const bCoef = tf.neg(tf.mul(a, tf.div(dgammaG, perGroup)));
        const c = tf.neg(tf.mul(a, tf.div(dbetaG, perGroup)));
        // The same operations in the same order for any G ((a·∂y + c) + b·x̂), so that G groups on one thread
        // and one group on each of G workers give the same numbers.
        const dx = groups === 1
          ? tf.add(channelAffine(dy, a, c), channelAffine(xh, bCoef))
          : groupAffine(dy, groups, a, c, { x: xh, scale: bCoef });
        return [dx, tf.reshape(tf.sum(dgammaG, 0), [channels]), tf.reshape(tf.sum(dbetaG, 0), [channels])];
      },
    };
  });
  return node(grouped, gamma, beta);
}

/**
 * BatchNorm whose training-mode statistics are computed per sub-batch ("ghost" or split BN), the way
 * MoCo's Shuffle BN sees a batch spread over G GPUs (MoCo Sec. 3.3). On one device this emulates G
 * devices: sample i is normalised only with the statistics of its own group of consecutive samples.
 *
 * Inference uses one set of moving statistics, updated each training call with the mean over groups
 * of the group means and of the group variances (lightly's SplitBatchNorm averages its per-split
 * running stats the same way when switching to eval). Its weights are exactly BatchNormalization's
 * (gamma, beta, moving_mean, moving_variance, in that order), so a trained model can be converted back
 * to the stock layer and loaded by plain tfjs. Channels are the last axis (NHWC or [N, C]).
 */
export class GroupBatchNormalization extends tfl.layers.Layer {
  static className = 'GroupBatchNormalization';
  readonly groups: number;
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: LayerVariable;
  private beta!: LayerVariable;
  private movingMean!: LayerVariable;
  private movingVariance!: LayerVariable;

  constructor(args: GroupBatchNormalizationArgs = {}) {
    super(args as never);
    this.groups = args.groups ?? 8;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!Number.isInteger(this.groups) || this.groups < 1) throw new Error(`GroupBatchNormalization: groups must be a positive integer, got ${this.groups}`);
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error(`GroupBatchNormalization: the channel (last) dimension must be known; got shape ${JSON.stringify(shape)}`);
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const gamma = this.gamma.read();
      const beta = this.beta.read();
      if (!kwargs['training']) {
        return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), beta, gamma, this.epsilon);
      }
      const kept: tf.Tensor[] = [];
      try {
        return this.normalizeTraining(x, gamma, beta, kept);
      } finally {
        tf.dispose(kept);
      }
    });
  }

  /** Training mode: per-group statistics, and the moving statistics updated. Tensors to free go to `kept`. */
  private normalizeTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, kept: tf.Tensor[]): tf.Tensor {
    const n = x.shape[0];
    const sizes = groupSizes(n, this.groups);
    const channels = x.shape[x.rank - 1];
    let y: tf.Tensor;
    let groupMeans: tf.Tensor; // [G, C]
    let groupVars: tf.Tensor;
    if (sizes.every((g) => g === sizes[0])) {
      // Equal groups: one reshape to [G, N/G, ..., C] and statistics over all but the group and channel
      // axes (measured at [256,14,14,32], G 8, forward+backward: 2.4× faster on wasm than slicing per
      // group, whose Slice copies the whole input per slice, and 1.5× on cpu).
      const g = sizes.length;
      const grouped = tf.reshape(x, [g, n / g, ...x.shape.slice(1)]);
      const stats: { mean?: tf.Tensor; variance?: tf.Tensor } = {};
      y = tf.reshape(groupNormalize(grouped, gamma, beta, this.epsilon, stats), x.shape);
      kept.push(stats.mean!, stats.variance!);
      groupMeans = stats.mean!;
      groupVars = stats.variance!;
    } else {
      // Uneven groups (a short last batch): per group, mean and E[x²]−mean² and the fused batchNorm kernel.
      const parts = tf.split(x, sizes, 0);
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const stats = parts.map((p) => {
        const mean = tf.mean(p, axes) as tf.Tensor1D;
        const variance = tf.relu(tf.sub(tf.mean(tf.square(p), axes), tf.square(mean))) as tf.Tensor1D;
        return { mean, variance };
      });
      y = tf.concat(parts.map((p, i) => tf.batchNorm(p, stats[i].mean, stats[i].variance, beta, gamma, this.epsilon)), 0);
      groupMeans = tf.stack(stats.map((st) => st.mean));
      groupVars = tf.stack(stats.map((st) => st.variance));
    }
    // Moving statistics, written imperatively as tfjs BatchNormalization does (no gradient flows here).
    const decay = 1 - this.momentum;
    const mm = this.movingMean.read();
    const mv = this.movingVariance.read();
    this.movingMean.write(tf.sub(mm, tf.mul(tf.sub(mm, tf.mean(groupMeans, 0)), decay)));
    this.movingVariance.write(tf.sub(mv, tf.mul(tf.sub(mv, tf.mean(groupVars, 0)), decay)));
    return y;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, momentum: this.momentum, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(GroupBatchNormalization);
