import * as tf from '@tensorflow/tfjs-core';
import {
  RunRandom,
  inject,
  injectable,
  StrategyOptions,
  WarningSink,
  l2Normalize,
  similarityToKeys,
  type DictionaryStrategy,
  type DictionaryUpdate,
  type Random,
  type SetupContext,
  type StepContext,
  type StrategyState,
} from '../../../src/index.js';

/** The memory bank's options (see the plugin's schema). */
export interface MemoryBankOptions {
  /** K, the negatives drawn per step. */
  readonly negatives: number;
  /** μ of the slot update, slot ← normalize(μ·slot + (1−μ)·q). */
  readonly bankMomentum: number;
}

/**
 * The memory bank (Wu et al. 2018, "Unsupervised Feature Learning via Non-Parametric Instance
 * Discrimination"), the baseline of the MoCo paper (He et al. 2020, Sec. 3.2 and Fig. 2b): one d-dim
 * slot per training image, keyed by the image's index in the data set.
 *
 * - No key encoder runs: the positive of a query is the stored entry of the same image (`positives`).
 * - Negatives are K entries drawn uniformly, with replacement, from the whole bank (as InstDisc's
 *   alias sampler draws them). One draw of K indices per call is shared by every query of the batch:
 *   gathering K rows once costs O(K·d), where a separate draw per query would cost O(N·K·d).
 *   A draw may include the query's own slot (probability K/n per query), as in InstDisc.
 * - After the optimizer step each used slot becomes normalize(μ·old + (1−μ)·q), μ = 0.5, as in Wu et
 *   al.'s code (`--nce-m 0.5`) and the NPID memories of VISSL and mmselfsup. The MoCo paper (Sec. 3.2)
 *   contrasts this momentum on the stored representations with its own momentum on the encoder.
 *   An index that occurs k times in one batch updates its slot once, with the mean of its k queries.
 *
 * The bank is an n×d non-trainable variable. tfjs tensors are immutable, so writing rows means a new
 * n×d buffer: the update is O(n·d) memory traffic (as the queue's), plus O(N·d) arithmetic on the
 * used rows only (gather, EMA, normalize, then one `tensorScatterUpdate` of the unique rows).
 */
@injectable()
export class MemoryBankDictionary implements DictionaryStrategy {
  readonly id = 'memory-bank';
  /** K, the negatives drawn per step. */
  readonly negatives: number;
  /** μ of the slot update. */
  readonly bankMomentum: number;
  private bank: tf.Variable | undefined;
  /** 1 for each slot that holds a real (updated) representation. */
  private written: Uint8Array = new Uint8Array(0);
  private filled = 0;
  private sampled: Int32Array = new Int32Array(0);

  constructor(
    @inject(StrategyOptions) options: MemoryBankOptions,
    @inject(RunRandom) private readonly random: Random,
    @inject(WarningSink) private readonly warnings: WarningSink,
  ) {
    this.negatives = options.negatives;
    this.bankMomentum = options.bankMomentum;
  }

  describe(): string {
    return `memory bank, K ${this.negatives} sampled negatives, μ ${this.bankMomentum}`;
  }

  setup(ctx: SetupContext): void {
    const n = ctx.datasetSize;
    if (n === undefined) {
      throw new Error(
        "dictionary 'memory-bank' needs the data set's size (one slot per image) and the dataset does not report it: pass datasetSize to fit, e.g. fit(ds, { epochs, datasetSize: 50000 }).",
      );
    }
    if (this.negatives > n) {
      this.warnings.warn(`dictionary.negatives ${this.negatives} exceeds the ${n} slots of the memory bank: negatives are drawn with replacement, so each step repeats slots.`);
    }
    this.dispose();
    const seed = this.random.seed();
    // Random unit vectors, as the queue starts (InstDisc draws uniform in ±1/√(d/3), nearly unit norm).
    this.bank = tf.tidy(() => tf.variable(l2Normalize(tf.randomNormal([n, ctx.dim], 0, 1, 'float32', seed)), false));
    this.written = new Uint8Array(n);
    this.filled = 0;
  }

  private get store(): tf.Variable {
    if (!this.bank) throw new Error('memory-bank dictionary used before setup()');
    return this.bank;
  }

  /** Number of slots n (= images in the data set). */
  get size(): number {
    return this.store.shape[0];
  }

  /** The n×d bank (for tests and inspection). */
  get entries(): tf.Tensor2D {
    return this.store as tf.Tensor2D;
  }

  /** The slot indices drawn as negatives by the last `negativeSimilarities` call. */
  get lastSampled(): Int32Array {
    return this.sampled;
  }

  /** Read the batch's indices on the host (they came from there) and refuse any outside the bank. */
  private hostIndices(indices: tf.Tensor1D): Int32Array {
    const ids = indices.dataSync() as Int32Array;
    const n = this.size;
    for (const i of ids) {
      if (!(i >= 0 && i < n)) {
        throw new Error(`memory-bank: image index ${i} is outside the bank's ${n} slots (one per image, from datasetSize); indices must run 0..${n - 1}.`);
      }
    }
    return ids;
  }

  positives(indices: tf.Tensor1D): tf.Tensor2D {
    this.hostIndices(indices);
    // Stored rows: constants for the loss (the bank is not a trainable variable).
    return tf.gather(this.store, indices) as tf.Tensor2D;
  }

  negativeSimilarities(queries: tf.Tensor2D, _keys: tf.Tensor2D, ctx: StepContext): tf.Tensor2D {
    const n = this.size;
    const draw = new Int32Array(this.negatives);
    for (let j = 0; j < draw.length; j++) draw[j] = ctx.random.int(n);
    this.sampled = draw;
    return tf.tidy(() => similarityToKeys(queries, tf.gather(this.store, tf.tensor1d(draw, 'int32')) as tf.Tensor2D));
  }

  update({ queries, indices }: DictionaryUpdate): void {
    if (!indices) throw new Error("dictionary 'memory-bank' needs each image's data-set index in update()");
    const ids = this.hostIndices(indices);
    // Unique slots of the batch, and for each row the position of its slot among them.
    const position = new Map<number, number>();
    const segment = new Int32Array(ids.length);
    ids.forEach((id, row) => {
      let p = position.get(id);
      if (p === undefined) position.set(id, (p = position.size));
      segment[row] = p;
    });
    const unique = Int32Array.from(position.keys());
    tf.tidy(() => {
      let q: tf.Tensor2D = queries;
      if (unique.length < ids.length) {
        // Duplicates: mean of the queries of each slot, so every slot is written exactly once.
        const counts = new Float32Array(unique.length);
        segment.forEach((p) => counts[p]++);
        q = tf.div(tf.unsortedSegmentSum(queries, tf.tensor1d(segment, 'int32'), unique.length), tf.tensor2d(counts, [unique.length, 1]));
      }
      const slots = tf.tensor1d(unique, 'int32');
      const old = tf.gather(this.store, slots);
      const fresh = l2Normalize(tf.add(tf.mul(old, this.bankMomentum), tf.mul(q, 1 - this.bankMomentum)));
      this.store.assign(tf.tensorScatterUpdate(this.store, tf.reshape(slots, [unique.length, 1]), fresh));
    });
    for (const id of unique) {
      if (!this.written[id]) {
        this.written[id] = 1;
        this.filled++;
      }
    }
  }

  /** size = the bank's n slots (every one is a candidate negative); filled = slots updated at least once. */
  stats() {
    return { size: this.bank ? this.size : 0, filled: this.filled };
  }

  /**
   * The bank tensor, plus which slots are real: `written` lists them while some are still initial
   * noise (empty once every slot was updated, i.e. after the first full epoch).
   */
  state(): StrategyState {
    const written = this.filled === this.written.length ? [] : [...this.written.keys()].filter((i) => this.written[i]);
    return { tensors: { bank: this.store }, values: { filled: this.filled, written } };
  }

  loadState(state: StrategyState): void {
    const t = state.tensors.bank;
    if (!t || t.shape[0] !== this.size || t.shape[1] !== this.store.shape[1]) {
      throw new Error(`memory-bank checkpoint holds a ${JSON.stringify(t?.shape)} bank; this run has ${JSON.stringify(this.store.shape)} (datasetSize × dim)`);
    }
    this.store.assign(t);
    const filled = Number(state.values.filled);
    const written = state.values.written;
    this.written = new Uint8Array(this.size).fill(filled === this.size ? 1 : 0);
    if (Array.isArray(written)) for (const i of written) this.written[i] = 1;
    this.filled = this.written.reduce((a, b) => a + b, 0);
  }

  dispose(): void {
    this.bank?.dispose();
    this.bank = undefined;
  }
}
