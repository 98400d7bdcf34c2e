// A third-party dictionary, written against the public API only (outside this repository you would
// import from 'tfjs-moco' instead of '../../src/index.js').
import * as tf from '@tensorflow/tfjs-core';
import {
  RunRandom,
  StrategyOptions,
  inject,
  injectable,
  l2Normalize,
  type DictionaryStrategy,
  type DictionaryUpdate,
  type Random,
  type SetupContext,
  type StrategyState,
} from '../../src/index.js';

/** A similarity low enough that e^(s/τ) is exactly 0 in float32 for any τ ≤ 100: the key drops out of a softmax. */
export const SKIPPED = -1e4;

/**
 * MoCo's FIFO queue (He et al. 2020, Sec. 3.2) that also remembers which image each stored key came
 * from, and leaves out, for each query, the stored keys of the query's own image. A queue larger
 * than the data set (or a small data set trained for many epochs) holds older keys of the very image
 * a query shows: false negatives that push an image away from itself. Masked similarities are set to
 * SKIPPED, so they add nothing to InfoNCE's denominator and get no gradient.
 *
 * The run's container builds it: its options and the run's seeded random generator arrive by injection.
 */
@injectable()
export class OwnImageQueue implements DictionaryStrategy {
  readonly id = 'own-image-queue';
  /** K, stored keys. */
  readonly size: number;
  private keys: tf.Variable | undefined;
  /** Data-set index of each stored key; −1 for the initial random keys. */
  private owners: tf.Variable | undefined;
  private pointer = 0;
  private filled = 0;

  constructor(
    @inject(StrategyOptions) options: { readonly size: number },
    @inject(RunRandom) private readonly random: Random,
  ) {
    this.size = options.size;
  }

  setup(ctx: SetupContext): void {
    if (ctx.batchSize > this.size) throw new Error(`dictionary.size: own-image-queue (${this.size}) must hold at least one batch (${ctx.batchSize})`);
    this.dispose();
    const seed = this.random.seed();
    this.keys = tf.tidy(() => tf.variable(l2Normalize(tf.randomNormal([this.size, ctx.dim], 0, 1, 'float32', seed)), false));
    this.owners = tf.variable(tf.fill([this.size], -1, 'int32'), false);
    this.pointer = 0;
    this.filled = 0;
  }

  negativeSimilarities(queries: tf.Tensor2D, _keys: tf.Tensor2D, _ctx: unknown, indices?: tf.Tensor1D): tf.Tensor2D {
    if (!indices) throw new Error("dictionary 'own-image-queue' needs each image's data-set index");
    return tf.tidy(() => {
      const sims = tf.matMul(queries, this.keys!, false, true);
      // [N,K]: stored key j came from query i's image.
      const own = tf.equal(tf.expandDims(indices, 1), tf.expandDims(this.owners!, 0));
      return tf.where(own, tf.fill(sims.shape as [number, number], SKIPPED), sims) as tf.Tensor2D;
    });
  }

  update({ keys, indices }: DictionaryUpdate): void {
    if (!indices) throw new Error("dictionary 'own-image-queue' needs each image's data-set index");
    tf.tidy(() => {
      let k: tf.Tensor2D = keys;
      let owners: tf.Tensor1D = indices;
      const n0 = k.shape[0];
      if (n0 > this.size) {
        k = tf.slice(k, [n0 - this.size, 0], [this.size, -1]);
        owners = tf.slice(owners, [n0 - this.size], [this.size]);
      }
      const n = k.shape[0];
      // The ring buffer's next n slots, wrapping round: overwrite the oldest keys.
      const slots = tf.tensor2d(Int32Array.from({ length: n }, (_, i) => (this.pointer + i) % this.size), [n, 1], 'int32');
      this.keys!.assign(tf.tensorScatterUpdate(this.keys!, slots, k));
      this.owners!.assign(tf.tensorScatterUpdate(this.owners!, slots, tf.cast(owners, 'int32')));
      this.pointer = (this.pointer + n) % this.size;
      this.filled = Math.min(this.size, this.filled + n);
    });
  }

  stats() {
    return { size: this.size, filled: this.filled };
  }

  /** Data-set index of each stored key (−1: initial noise), for inspection. */
  get storedOwners(): tf.Tensor1D {
    return this.owners as tf.Tensor1D;
  }

  state(): StrategyState {
    return { tensors: { keys: this.keys!, owners: this.owners! }, values: { pointer: this.pointer, filled: this.filled } };
  }

  loadState(state: StrategyState): void {
    this.keys!.assign(state.tensors.keys);
    this.owners!.assign(state.tensors.owners);
    this.pointer = Number(state.values.pointer);
    this.filled = Number(state.values.filled);
  }

  dispose(): void {
    this.keys?.dispose();
    this.owners?.dispose();
    this.keys = this.owners = undefined;
  }
}
