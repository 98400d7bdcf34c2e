import * as tf from '@tensorflow/tfjs-core';
import type * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import type { TrainerConfig } from '../config/moco-config.js';
import type { EventStream } from '../events/event-stream.js';
import type { MocoEvent } from '../events/moco-event.js';
import { configErrorFromLines } from '../registry/config-error.js';
import { formatIssues } from '../registry/format-issues.js';
import type { StrategyFamily, StrategyOf } from '../registry/strategy-family.js';
import type { RunCapabilities } from '../strategies/capabilities.js';
import type { RunWarnings } from '../events/run-warnings.js';
import type { StepContext } from '../strategies/step-context.js';
import { l2Normalize } from './l2-normalize.js';
import { learningRateAt } from './lr-schedule.js';
import type { WeightPair } from '../strategies/encoder-update-strategy.js';
import { attachHead, copyWeightsByLayerName, disposeHead, pairWeights, rebuildEncoder } from './moco-encoders.js';
import { groupSizes } from '../layers/group-batch-normalization.js';
import { Random } from './random.js';
import { withWeightDecay } from './weight-decay.js';
import { ReplicaGroup } from '../parallel/replica-group.js';
import { buffersOf, fromHost, toHost, toHostRows, type HostTensor } from '../parallel/replica-messages.js';

export const fitOptionsSchema = z
  .object({
    epochs: z.number().int().min(1),
    /** Images per step; the paper uses 256 over 8 GPUs. */
    batchSize: z.number().int().min(2).default(256),
    /** Steps per epoch when the data set's size is unknown (or to cut epochs short). */
    stepsPerEpoch: z.number().int().min(1).optional(),
    /** Images in the data set, when `dataset.size` does not say. */
    datasetSize: z.number().int().min(1).optional(),
    /** Write checkpoints to this folder: every `checkpointEvery`, and when the run ends or is stopped. */
    checkpointDir: z.string().min(1).optional(),
    /** How often to checkpoint into `checkpointDir`: every N optimizer steps or every N epochs (default { epochs: 1 }). */
    checkpointEvery: z
      .union([z.object({ steps: z.number().int().min(1) }).strict(), z.object({ epochs: z.number().int().min(1) }).strict()])
      .optional(),
    /**
     * Threads to train on (data parallel, src/parallel/replica-group.ts): this one plus workers − 1 worker
     * threads, each with its own backend, each computing a share of every batch. Default 1.
     */
    workers: z.number().int().min(1).max(64).default(1),
    /**
     * With workers > 1: module specifiers (URLs or package paths) the worker threads import to get the run's
     * plugins; each module exports them as `plugins`, `builtinPlugins` or default (e.g. 'tfjs-moco/plugins').
     * A backbone with custom layers also needs a module here that registers them.
     */
    workerPlugins: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type FitOptions = z.input<typeof fitOptionsSchema>;

/** The plan of the last `fit`, with sizes worked out: saved in checkpoints so a resumed run ends where planned. */
export interface FitPlan {
  readonly epochs: number;
  readonly batchSize: number;
  readonly stepsPerEpoch?: number;
  readonly datasetSize?: number;
  readonly totalSteps?: number;
}

/** What the dictionary was set up with (saved in checkpoints: a restored dictionary is set up the same way). */
export interface DictionarySetupInfo {
  readonly dim: number;
  readonly batchSize: number;
  readonly datasetSize?: number;
  readonly totalSteps?: number;
}

/** What an epoch task sees: the epoch just finished, and a way to publish events (e.g. an `evaluation`). */
export interface EpochTaskContext {
  /** The epoch just finished, 0-based. */
  readonly epoch: number;
  /** Epochs planned for this fit. */
  readonly epochs: number;
  /** Optimizer steps done so far. */
  readonly step: number;
  emit(event: MocoEvent): void;
}

/**
 * Work done at the end of every epoch, awaited before the next epoch starts (so it never races training):
 * evaluation, logging, early stopping (call `requestStop`). A task that throws ends the run with an error.
 */
export type EpochTask = (ctx: EpochTaskContext) => void | Promise<void>;

/**
 * A data set that wants to know which epoch it is about to serve: the trainer calls `setEpoch(epoch)` before
 * every epoch's iterator (like PyTorch's `DistributedSampler.set_epoch`), so a seeded shuffle can depend on
 * the epoch number alone and a resumed run sees the same order as an uninterrupted one.
 */
export interface EpochAwareDataset {
  setEpoch(epoch: number): void;
}

/** A batch as the data set yields it: images alone, or `{xs, index}` (index needed by a memory bank). */
type Element = tf.TensorContainer;

/** The trainer's position, saved in checkpoints. */
export interface TrainerPosition {
  epoch: number;
  /** Steps done within `epoch` (a resumed run skips that many batches of it). */
  stepInEpoch: number;
  step: number;
  randomState: number;
}

type Strategies = { [F in StrategyFamily]: StrategyOf[F] };

/**
 * One MoCo run: owns the query and key encoders, the optimizer and the strategies' state, and runs the
 * training step (He et al. 2020, Algorithm 1), publishing numbers on the event stream.
 */
export class MocoTrainer {
  readonly random: Random;
  query!: tfl.LayersModel;
  key: tfl.LayersModel | undefined;
  optimizer!: tf.MomentumOptimizer;
  position: TrainerPosition;
  private pairs: WeightPair[] = [];
  private trainable: tf.Variable[] = [];
  private built = false;
  private stopRequested = false;
  private dictionaryReady = false;
  private readonly epochTasks: EpochTask[] = [];
  /** The last fit's plan (undefined before the first fit or checkpoint load). */
  plan: FitPlan | undefined;
  /** What the dictionary was set up with (undefined before that). */
  dictionarySetup: DictionarySetupInfo | undefined;
  /** Writes a checkpoint of this run into a folder; set by Moco (file I/O lives outside the trainer). */
  checkpointSaver: ((dir: string) => Promise<void>) | undefined;
  private fitting = false;
  private pausedAtBoundary = 0;
  /** K of the last step's negatives: the dictionary's size for one that keeps no `stats`. */
  private lastNegatives = 0;

  constructor(
    readonly backbone: tfl.LayersModel,
    readonly config: TrainerConfig,
    readonly strategies: Strategies,
    readonly events: EventStream,
    readonly fullConfig: Record<string, unknown>,
    /** What the strategies declared they can do or need (the trainer asks these, never ids). */
    readonly capabilities: RunCapabilities,
    /** The run's services, the same objects the strategies were given by injection. */
    private readonly services: { readonly random: Random; readonly warnings: RunWarnings },
  ) {
    this.random = services.random;
    this.position = { epoch: 0, stepInEpoch: 0, step: 0, randomState: this.random.getState() };
  }

  /** Whether keys come from a separate momentum/copy encoder (MoCo) rather than the query encoder or a bank. */
  get usesKeyEncoder(): boolean {
    return !this.capabilities.dictionary.providesPositives && this.capabilities.update.keySource === 'key-encoder';
  }

  /** Build the encoders (once). Seeds weight initialisation of the head from the run's seed. */
  async build(): Promise<void> {
    if (this.built) return;
    const combined = attachHead(this.backbone, this.config.head, this.config.seed);
    this.query = await rebuildEncoder(combined, this.strategies.normalization, 'query');
    // The scaffold's head layers were only a template for the copy; the backbone layers are the user's.
    disposeHead(combined, this.backbone);
    if (this.usesKeyEncoder) {
      // The key encoder starts as an exact copy of the query encoder (Algorithm 1: f_k.params = f_q.params).
      this.key = await rebuildEncoder(this.query, this.strategies.normalization, 'key');
      this.pairs = pairWeights(this.query, this.key);
    }
    this.trainable = this.query.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = tf.train.momentum(this.config.optimizer.learningRate, this.config.optimizer.momentum);
    this.built = true;
  }

  requestStop(): void {
    this.stopRequested = true;
  }

  /** Run `task` at the end of every epoch (after its `epoch-ended` event), awaited. Returns a remover. */
  addEpochTask(task: EpochTask): () => void {
    this.epochTasks.push(task);
    return () => {
      const i = this.epochTasks.indexOf(task);
      if (i >= 0) this.epochTasks.splice(i, 1);
    };
  }

  /**
   * Whether the run's state may be read or replaced now (checkpoints): outside `fit`, or inside it while the
   * trainer waits at an epoch boundary (epoch tasks) or for its own checkpoint. Not from a step event.
   */
  get atSafePoint(): boolean {
    return !this.fitting || this.pausedAtBoundary > 0;
  }

  private async paused<T>(work: () => Promise<T>): Promise<T> {
    this.pausedAtBoundary++;
    try {
      return await work();
    } finally {
      this.pausedAtBoundary--;
    }
  }

  /** Whether the dictionary has allocated its state (done once, at the first fit or a checkpoint load). */
  get dictionaryIsReady(): boolean {
    return this.dictionaryReady;
  }

  /** Set the dictionary up (once). A checkpoint load calls it with the saved info before `loadState`. */
  prepareDictionary(info: DictionarySetupInfo, warn?: (message: string) => void): void {
    const setup = () => this.strategies.dictionary.setup?.({ ...info });
    if (warn) this.services.warnings.redirected(warn, setup);
    else setup();
    this.dictionaryReady = true;
    this.dictionarySetup = { ...info };
  }

  /** Train; resolves with the user's backbone, its weights replaced by the trained ones. */
  async fit<T extends tf.TensorContainer>(dataset: tfd.Dataset<T>, options: FitOptions): Promise<tfl.LayersModel> {
    const parsed = fitOptionsSchema.safeParse(options ?? {});
    if (!parsed.success) throw configErrorFromLines(formatIssues('fit', parsed.error, options));
    const opts = parsed.data;
    if (!dataset || typeof dataset.batch !== 'function') {
      throw new TypeError('fit: dataset must be a tf.data.Dataset of images [H,W,C] or of {xs, index} elements.');
    }
    await this.build();
    const s = this.strategies;
    const micro = this.config.microBatch;
    if (micro > 0 && micro < opts.batchSize && this.capabilities.dictionary.negativesFromBatch) {
      throw configErrorFromLines([
        `microBatch: ${micro} would split each batch of ${opts.batchSize}, but dictionary '${s.dictionary.id}' takes its negatives from the batch, so K would shrink to the micro-batch; set microBatch to 0 (or at least batchSize), or lower batchSize`,
      ]);
    }
    if (opts.workers > 1) {
      if (!opts.workerPlugins?.length) {
        throw configErrorFromLines([
          `fit.workerPlugins: workers: ${opts.workers} trains in worker threads, which load the run's plugins by module; give the modules, e.g. workerPlugins: ['tfjs-moco/plugins'] (or set workers to 1)`,
        ]);
      }
      if (this.capabilities.dictionary.negativesFromBatch) {
        throw configErrorFromLines([
          `fit.workers: ${opts.workers} would split each batch of ${opts.batchSize}, but dictionary '${s.dictionary.id}' takes its negatives from the batch, so K would shrink to a worker's share; set workers to 1`,
        ]);
      }
    }
    const datasetSize = opts.datasetSize ?? (Number.isFinite(dataset.size) && dataset.size > 0 ? dataset.size : undefined);
    const stepsPerEpoch = opts.stepsPerEpoch ?? (datasetSize ? Math.ceil(datasetSize / opts.batchSize) : undefined);
    const totalSteps = stepsPerEpoch ? stepsPerEpoch * opts.epochs : undefined;
    if (opts.checkpointEvery && !opts.checkpointDir) throw configErrorFromLines(['fit.checkpointEvery: needs fit.checkpointDir, the folder to write checkpoints to']);
    if (opts.checkpointDir && !this.checkpointSaver) throw configErrorFromLines(['fit.checkpointDir: this trainer has no checkpoint writer (create the run with createMoco)']);
    this.plan = { epochs: opts.epochs, batchSize: opts.batchSize, stepsPerEpoch, datasetSize, totalSteps };
    const every = opts.checkpointDir ? (opts.checkpointEvery ?? { epochs: 1 }) : undefined;
    let savedAt: string | undefined;
    const saveCheckpoint = async () => {
      const at = `${this.position.epoch}/${this.position.stepInEpoch}/${this.position.step}`;
      if (!opts.checkpointDir || savedAt === at) return;
      await this.paused(() => this.checkpointSaver!(opts.checkpointDir!));
      savedAt = at;
    };
    if (this.fitting) throw new Error('fit: this run is already training (await the first fit before calling it again)');
    this.stopRequested = false;
    this.events.beginRun();
    const started = performance.now();
    this.events.emit({
      type: 'run-started',
      config: this.fullConfig,
      backend: tf.getBackend(),
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      totalSteps,
      datasetSize,
      startStep: this.position.step,
      startEpoch: this.position.epoch,
    });
    let reason: 'completed' | 'stopped' = 'completed';
    let group: ReplicaGroup | undefined;
    this.fitting = true;
    try {
      if (!this.dictionaryReady) this.prepareDictionary({ dim: this.config.head.dim, batchSize: opts.batchSize, datasetSize, totalSteps });
      if (opts.workers > 1) group = await ReplicaGroup.start(this, opts.workers, opts.workerPlugins!);
      // A step checkpoint due at an epoch's last step waits for the epoch's end (and its tasks).
      let checkpointPending = false;
      epochs: while (this.position.epoch < opts.epochs) {
        const epochStart = performance.now();
        let lossSum = 0;
        let accSum = 0;
        let steps = 0;
        let images = 0;
        const epochAware = dataset as unknown as Partial<EpochAwareDataset>;
        if (typeof epochAware.setEpoch === 'function') epochAware.setEpoch(this.position.epoch);
        const iterator = await dataset.batch(opts.batchSize).iterator();
        // A resumed run skips the batches of this epoch it already trained on.
        for (let i = 0; i < this.position.stepInEpoch; i++) {
          const r = await iterator.next();
          if (r.done) break;
          tf.dispose(r.value as tf.TensorContainer);
        }
        while (stepsPerEpoch === undefined || this.position.stepInEpoch < stepsPerEpoch) {
          const r = await iterator.next();
          if (r.done) break;
          const t0 = performance.now();
          const progress = totalSteps ? this.position.step / totalSteps : this.position.epoch / opts.epochs;
          const ctx: StepContext = { epoch: this.position.epoch, step: this.position.step, progress, random: this.random };
          let result: { loss: number; accuracy: number; batch: number };
          try {
            result = group ? await this.trainStepParallel(group, r.value as Element, ctx, progress) : this.trainStep(r.value as Element, ctx, progress);
          } finally {
            tf.dispose(r.value as tf.TensorContainer);
          }
          const seconds = (performance.now() - t0) / 1000;
          lossSum += result.loss;
          accSum += result.accuracy;
          steps++;
          images += result.batch;
          const dict = s.dictionary.stats?.() ?? { size: this.lastNegatives, filled: this.lastNegatives };
          this.events.emit({
            type: 'step',
            epoch: this.position.epoch,
            step: this.position.step,
            stepInEpoch: this.position.stepInEpoch,
            batchSize: result.batch,
            loss: result.loss,
            pretextAccuracy: result.accuracy,
            learningRate: learningRateAt(this.config.optimizer, progress),
            keyEncoderMomentum: this.usesKeyEncoder ? s.update.momentumAt?.(ctx) : undefined,
            dictionaryFill: dict.size ? dict.filled / dict.size : 1,
            dictionarySize: dict.size,
            imagesPerSecond: result.batch / seconds,
            progress: totalSteps ? (this.position.step + 1) / totalSteps : progress,
          });
          this.position.step++;
          this.position.stepInEpoch++;
          this.position.randomState = this.random.getState();
          // Let rxjs report a throwing subscriber (it does so from a 0 ms timer) before the next step.
          await new Promise((resolve) => setTimeout(resolve, 0));
          const subscriberError = this.events.takeError();
          if (subscriberError) throw subscriberError;
          const epochDone = stepsPerEpoch !== undefined && this.position.stepInEpoch >= stepsPerEpoch;
          if (every && 'steps' in every && this.position.step % every.steps === 0) {
            if (epochDone) checkpointPending = true;
            else await saveCheckpoint();
          }
          // A stop at an epoch's last step still ends the epoch (event, tasks), below.
          if (this.stopRequested && !epochDone) {
            reason = 'stopped';
            break epochs;
          }
        }
        const seconds = (performance.now() - epochStart) / 1000;
        this.events.emit({
          type: 'epoch-ended',
          epoch: this.position.epoch,
          steps,
          meanLoss: steps ? lossSum / steps : NaN,
          meanPretextAccuracy: steps ? accSum / steps : NaN,
          seconds,
          imagesPerSecond: images / seconds,
        });
        const finished = this.position.epoch;
        this.position.epoch++;
        this.position.stepInEpoch = 0;
        for (const task of [...this.epochTasks]) {
          await this.paused(async () => task({ epoch: finished, epochs: opts.epochs, step: this.position.step, emit: (event) => this.events.emit(event) }));
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
        const taskSubscriberError = this.events.takeError();
        if (taskSubscriberError) throw taskSubscriberError;
        if (checkpointPending || (every && 'epochs' in every && this.position.epoch % every.epochs === 0)) await saveCheckpoint();
        checkpointPending = false;
        if (this.stopRequested && this.position.epoch < opts.epochs) {
          reason = 'stopped';
          break;
        }
      }
      this.exportInto(this.backbone);
      // The final state, so that a stopped run can be resumed and a finished one is on disk.
      await saveCheckpoint();
      this.events.emit({ type: 'run-ended', reason, epochs: this.position.epoch, steps: this.position.step, seconds: (performance.now() - started) / 1000 });
      return this.backbone;
    } catch (err) {
      this.events.emit({ type: 'error', message: err instanceof Error ? err.message : String(err), step: this.position.step });
      throw err;
    } finally {
      await group?.close();
      this.fitting = false;
      this.events.endRun();
    }
  }

  /** Copy the trained backbone weights into a model with the backbone's layer names (e.g. the user's). */
  exportInto(backbone: tfl.LayersModel): tfl.LayersModel {
    copyWeightsByLayerName(this.query, backbone);
    return backbone;
  }

  /**
   * One optimizer step. Returns the loss and pretext accuracy: the one host sync of the step.
   * Order follows Algorithm 1: keys without gradient, loss, SGD on the query encoder, then the key
   * encoder's update and the dictionary's enqueue.
   */
  trainStep(element: Element, ctx: StepContext, progress: number): { loss: number; accuracy: number; batch: number } {
    const kept: tf.Tensor[] = [];
    const { images, indices } = this.readBatch(element, kept);
    this.optimizer.setLearningRate(learningRateAt(this.config.optimizer, progress));
    const keep = <T extends tf.Tensor>(t: T): T => {
      kept.push(tf.keep(t));
      return t;
    };
    try {
      const stats = tf.tidy(() => {
        const [v1, v2] = this.views(images, ctx);
        const n = v1.shape[0];
        const share = this.computeShare(v1, v2, indices, ctx, n, keep);
        this.applyUpdate(share.grads, flattenPairs(share.pairKeys), flattenPairs(share.pairQueries), pairIndices(indices, share.pairKeys.length), ctx);
        return tf.stack([share.loss, share.accuracy]);
      });
      const [loss, accuracy] = stats.dataSync();
      stats.dispose();
      return { loss, accuracy, batch: images.shape[0] };
    } finally {
      tf.dispose(kept);
    }
  }

  /**
   * trainStep on a group of workers: this thread makes the views (so the augmentation draws are the one-thread
   * run's), keeps the first share and sends one to each replica; then it sums the shares' gradients, losses
   * and keys in share order, applies the update and sends it to the replicas (src/parallel/replica-group.ts).
   */
  async trainStepParallel(group: ReplicaGroup, element: Element, ctx: StepContext, progress: number): Promise<{ loss: number; accuracy: number; batch: number }> {
    const kept: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      kept.push(tf.keep(t));
      return t;
    };
    try {
      const { images, indices } = this.readBatch(element, kept);
      const learningRate = learningRateAt(this.config.optimizer, progress);
      this.optimizer.setLearningRate(learningRate);
      const [v1, v2] = tf.tidy(() => this.views(images, ctx)).map(keep);
      const n = v1.shape[0];
      const shares = microBatches(n, Math.ceil(n / group.size));
      const position = { epoch: ctx.epoch, step: ctx.step, progress: ctx.progress };
      const part = <T extends tf.Tensor>(t: T, [start, size]: [number, number]): T => tf.slice(t, start, size) as T;
      // Shuffle BN across workers (He et al. 2020, Sec. 3.3): the key batch is permuted before it is split into
      // shares, each worker's key encoder normalizes its share of the permuted batch, and the keys are put back
      // in order and handed to the shares whose queries they belong to.
      const keys = this.shufflesKeysAcrossWorkers ? await this.keysShuffledAcrossWorkers(group, [v1, v2], shares, ctx, position, keep) : undefined;
      const messages = shares.slice(1).map((sh) => ({
        type: 'share' as const,
        position,
        batchSize: n,
        v1: toHostRows(v1, sh),
        v2: toHostRows(v2, sh),
        indices: indices && toHostRows(indices, sh),
        keys: keys?.map((k) => toHostRows(k, sh)),
      }));
      const pending = group.shares(messages, messages.map((m) => buffersOf([m.v1, m.v2, m.indices, ...(m.keys ?? [])])));
      // This thread's share, while the replicas compute theirs.
      const first = shares[0];
      const local = tf.tidy(() =>
        this.computeShare(part(v1, first), part(v2, first), indices && part(indices, first), ctx, n, keep, keys?.map((k) => part(k, first))),
      );
      let remote: Awaited<typeof pending>;
      try {
        remote = await pending;
      } catch (err) {
        tf.dispose(shareTensors(local));
        throw err;
      }
      const stats = tf.tidy(() => {
        // Summed in share order, as trainStep sums its micro-batches: the same numbers as one thread.
        const grads: tf.NamedTensorMap = {};
        this.trainable.forEach((v, i) => {
          grads[v.name] = remote.reduce((g, r) => tf.add(g, fromHost(r.grads[i])), local.grads[v.name]);
        });
        const loss = remote.reduce((l, r) => tf.add(l, tf.scalar(r.loss)), local.loss as tf.Tensor);
        const accuracy = remote.reduce((a, r) => tf.add(a, tf.scalar(r.accuracy)), local.accuracy as tf.Tensor);
        const byPair = (mine: tf.Tensor2D[], theirs: (r: (typeof remote)[number]) => HostTensor[]) =>
          mine.map((m, p) => (remote.length === 0 ? m : (tf.concat([m, ...remote.map((r) => fromHost(theirs(r)[p]) as tf.Tensor2D)]) as tf.Tensor2D)));
        const stepKeys = flattenPairs(byPair(local.pairKeys, (r) => r.pairKeys));
        const stepQueries = flattenPairs(byPair(local.pairQueries, (r) => r.pairQueries));
        const allIndices = pairIndices(indices, local.pairKeys.length);
        group.apply({
          type: 'apply',
          position,
          learningRate,
          grads: this.trainable.map((v) => toHost(grads[v.name])),
          keys: toHost(stepKeys),
          queries: toHost(stepQueries),
          indices: allIndices && toHost(allIndices),
        });
        this.applyUpdate(grads, stepKeys, stepQueries, allIndices, ctx);
        return tf.stack([loss, accuracy]);
      });
      tf.dispose(shareTensors(local));
      const [loss, accuracy] = stats.dataSync();
      stats.dispose();
      return { loss, accuracy, batch: images.shape[0] };
    } finally {
      tf.dispose(kept);
    }
  }

  /**
   * The key encoder on key views (one per view pair), as encodeKeys' shuffle would run it on one device of the
   * paper's: no shuffle here (the caller shuffled across the whole batch), BatchNorm over these views alone.
   */
  encodeKeyShare(keyViews: tf.Tensor4D[]): tf.Tensor2D[] {
    const key = this.key;
    if (!key) throw new Error('encodeKeyShare: this run has no key encoder');
    return keyViews.map((v) => l2Normalize(key.apply(v, { training: true }) as tf.Tensor2D));
  }

  /**
   * The positive keys of the whole batch (one [N,d] per view pair), encoded with the key batch permuted across the
   * workers: each worker (this thread included) encodes the rows of the permuted batch that fall in its share.
   * The permutation is drawn from this thread's generator, where one thread's Shuffle BN draws it.
   */
  private async keysShuffledAcrossWorkers(
    group: ReplicaGroup,
    [v1, v2]: [tf.Tensor4D, tf.Tensor4D],
    shares: [number, number][],
    ctx: StepContext,
    position: { epoch: number; step: number; progress: number },
    keep: <T extends tf.Tensor>(t: T) => T,
  ): Promise<tf.Tensor2D[]> {
    const keyViews = this.capabilities.loss.symmetric ? [v2, v1] : [v2];
    const n = v1.shape[0];
    const perms = keyViews.map(() => ctx.random.permutation(n));
    const shuffled = tf.tidy(() => keyViews.map((v, p) => tf.gather(v, tf.tensor1d(perms[p], 'int32')) as tf.Tensor4D));
    try {
      const messages = shares.slice(1).map((sh) => ({ type: 'keys' as const, position, views: shuffled.map((v) => toHostRows(v, sh)) }));
      const pending = group.keys(messages, messages.map((m) => buffersOf(m.views)));
      const [start, size] = shares[0];
      const local = tf.tidy(() => this.encodeKeyShare(shuffled.map((v) => tf.slice(v, start, size) as tf.Tensor4D)));
      let remote: Awaited<typeof pending>;
      try {
        remote = await pending;
      } catch (err) {
        tf.dispose(local);
        throw err;
      }
      try {
        // Rows of the permuted batch, shares in order; row i of it is image perm[i]: put each back in place.
        return tf.tidy(() =>
          local.map((mine, p) => {
            const all = remote.length === 0 ? mine : tf.concat([mine, ...remote.map((r) => fromHost(r.keys[p]) as tf.Tensor2D)]);
            return keep(tf.gather(all, tf.tensor1d(Random.inverse(perms[p]), 'int32')) as tf.Tensor2D);
          }),
        );
      } finally {
        tf.dispose(local);
      }
    } finally {
      tf.dispose(shuffled);
    }
  }

  /** Whether a data-parallel step shuffles the key batch across the workers (Shuffle BN with a key encoder). */
  private get shufflesKeysAcrossWorkers(): boolean {
    return this.capabilities.normalization.shufflesKeys && this.key !== undefined && !this.capabilities.dictionary.providesPositives;
  }

  /** The batch's images and (when given) data-set indices; the indices go to `kept`. */
  readBatch(element: Element, kept: tf.Tensor[]): { images: tf.Tensor4D; indices?: tf.Tensor1D } {
    const { images, indices } = readElement(element);
    if (indices) kept.push(indices);
    if (this.capabilities.dictionary.needsIndices && !indices) {
      throw new Error(`dictionary '${this.strategies.dictionary.id}' needs each image's data-set index: give fit() a dataset of {xs, index} elements (imageSetToDataset does).`);
    }
    return { images, indices };
  }

  /** The two augmented views of a batch (float32 in [0,1]). */
  views(images: tf.Tensor4D, ctx: StepContext): [tf.Tensor4D, tf.Tensor4D] {
    const x = images.dtype === 'float32' ? images : tf.div(tf.cast(images, 'float32'), 255);
    return this.strategies.augmentation.views(x as tf.Tensor4D, ctx);
  }

  /**
   * Loss, accuracy and gradients of one share of a batch of `batchSize` images, each scaled by the share's
   * part of the batch (a share is the whole batch on one thread, or one worker's part). The share runs in
   * micro-batches of `microBatch` images: one forward/backward each, gradients summed, weighted by size; the
   * mean loss over the batch has the same gradient (all micro-batches see the same dictionary, updated
   * after). BatchNorm then computes its statistics per micro-batch, as per-GPU BN does.
   */
  computeShare(
    v1: tf.Tensor4D,
    v2: tf.Tensor4D,
    indices: tf.Tensor1D | undefined,
    ctx: StepContext,
    batchSize: number,
    keep: <T extends tf.Tensor>(t: T) => T,
    providedKeys?: tf.Tensor2D[],
  ): ShareResult {
    const chunks = microBatches(v1.shape[0], this.config.microBatch);
    const pairKeys: tf.Tensor2D[][] = [];
    const pairQueries: tf.Tensor2D[][] = [];
    let grads: tf.NamedTensorMap | undefined;
    let loss: tf.Scalar | undefined;
    let accuracy: tf.Scalar | undefined;
    for (const [start, size] of chunks) {
      const part = <T extends tf.Tensor>(t: T): T => (chunks.length === 1 ? t : (tf.slice(t, start, size) as T));
      const weight = size / batchSize;
      const previous = [grads, loss, accuracy];
      const next = tf.tidy(() => {
        const r = this.lossAndGradients(part(v1), part(v2), indices && part(indices), ctx, keep, providedKeys?.map((k) => part(k)));
        r.queries.forEach((q, p) => (pairQueries[p] ??= []).push(q));
        r.keys.forEach((k, p) => (pairKeys[p] ??= []).push(k));
        const scale = <T extends tf.Tensor>(t: T): T => (weight === 1 ? t : (tf.mul(t, weight) as T));
        const g: tf.NamedTensorMap = {};
        for (const [name, grad] of Object.entries(r.grads)) g[name] = grads ? tf.add(grads[name], scale(grad)) : scale(grad);
        return {
          grads: g,
          loss: (loss ? tf.add(loss, scale(r.value)) : scale(r.value)) as tf.Scalar,
          accuracy: (accuracy ? tf.add(accuracy, scale(r.accuracy)) : scale(r.accuracy)) as tf.Scalar,
        };
      });
      tf.dispose(previous.flatMap((v) => (v === undefined ? [] : v instanceof tf.Tensor ? [v] : Object.values(v))));
      ({ grads, loss, accuracy } = next);
    }
    return { grads: grads!, loss: loss!, accuracy: accuracy!, pairKeys: pairKeys.map((k) => concatRows(k)), pairQueries: pairQueries.map((q) => concatRows(q)) };
  }

  /**
   * The step's updates, after every share's gradients are summed (`grads` by variable name, before weight
   * decay): SGD on the query encoder, then the key encoder follows and the dictionary takes the keys (pair by
   * pair, shares in order, so rows stay aligned with the indices). Order as in Algorithm 1.
   */
  applyUpdate(grads: tf.NamedTensorMap, keys: tf.Tensor2D, queries: tf.Tensor2D, indices: tf.Tensor1D | undefined, ctx: StepContext): void {
    tf.tidy(() => {
      const update = withWeightDecay(grads, this.trainable, this.config.optimizer.weightDecay);
      this.optimizer.applyGradients(update as unknown as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
      if (this.key) this.strategies.update.apply?.(this.pairs, ctx);
      this.strategies.dictionary.update?.({ keys, queries, indices }, ctx);
    });
  }

  /**
   * The loss of one (micro-)batch and its gradients for the query encoder's variables. `queries`, `keys`
   * (one per view order) and the tensors the dictionary needs afterwards are `keep`-ed past this scope.
   */
  private lossAndGradients(
    v1: tf.Tensor4D,
    v2: tf.Tensor4D,
    indices: tf.Tensor1D | undefined,
    ctx: StepContext,
    keep: <T extends tf.Tensor>(t: T) => T,
    providedKeys?: tf.Tensor2D[],
  ): { value: tf.Scalar; grads: tf.NamedTensorMap; accuracy: tf.Scalar; queries: tf.Tensor2D[]; keys: tf.Tensor2D[] } {
    const s = this.strategies;
    const pairs: [tf.Tensor4D, tf.Tensor4D][] = this.capabilities.loss.symmetric ? [[v1, v2], [v2, v1]] : [[v1, v2]];
    // Positive keys that are constants for the loss: from the key encoder (no gradient: it runs
    // outside the gradient closure, tfjs having no stop-gradient) or from the dictionary's store;
    // or encoded already (data parallel with the key batch shuffled across workers).
    const constantKeys = pairs.map(([, keyView], i) => {
      if (providedKeys) return providedKeys[i];
      if (this.capabilities.dictionary.providesPositives) return s.dictionary.positives!(indices!, ctx);
      if (this.key) {
        const key = this.key;
        return l2Normalize(s.normalization.encodeKeys((v) => key.apply(v, { training: true }) as tf.Tensor2D, keyView, ctx));
      }
      return undefined;
    });
    const queries: tf.Tensor2D[] = [];
    const keys: tf.Tensor2D[] = [];
    const accuracies: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      let total = tf.scalar(0);
      pairs.forEach(([queryView, keyView], i) => {
        const q = l2Normalize(this.query.apply(queryView, { training: true }) as tf.Tensor2D);
        // End-to-end (keySource 'query-encoder'): keys from the query encoder, with gradient.
        const k = constantKeys[i] ?? l2Normalize(this.query.apply(keyView, { training: true }) as tf.Tensor2D);
        const positive = tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D;
        const negatives = s.dictionary.negativeSimilarities(q, k, ctx, indices);
        this.lastNegatives = negatives.shape[1];
        const out = s.loss.compute(positive, negatives);
        total = tf.add(total, out.loss);
        accuracies.push(keep(out.accuracy));
        queries.push(keep(q));
        keys.push(keep(k));
      });
      return total;
    }, this.trainable);
    const accuracy = accuracies.length === 1 ? accuracies[0] : (tf.mean(tf.stack(accuracies)) as tf.Scalar);
    return { value, grads, accuracy, queries, keys };
  }

  dispose(): void {
    this.query?.dispose();
    this.key?.dispose();
    this.optimizer?.dispose();
    // tfjs 4.22: MomentumOptimizer.dispose() does not free its parent SGDOptimizer's learning-rate scalar.
    (this.optimizer as unknown as { c?: tf.Scalar } | undefined)?.c?.dispose();
    this.strategies.dictionary.dispose?.();
  }

  /** The pairs of query/key weights the update rule moves (empty without a key encoder). */
  get weightPairs(): readonly WeightPair[] {
    return this.pairs;
  }

  /** The query encoder's trainable variables: exactly what the optimizer updates. */
  get trainableVariables(): readonly tf.Variable[] {
    return this.trainable;
  }
}

/** What one share of a batch contributes to a step (see MocoTrainer.computeShare). */
// A type, not an interface, so that tf.tidy can return it (a TensorContainer).
export type ShareResult = {
  /** Gradients by variable name, scaled by the share's part of the batch. */
  grads: tf.NamedTensorMap;
  loss: tf.Scalar;
  accuracy: tf.Scalar;
  /** Keys and queries per view pair (one pair, two for a symmetric loss), rows in batch order. */
  pairKeys: tf.Tensor2D[];
  pairQueries: tf.Tensor2D[];
};

/** Every tensor of a share's result, to dispose. */
export function shareTensors(r: ShareResult): tf.Tensor[] {
  return [...Object.values(r.grads), r.loss, r.accuracy, ...r.pairKeys, ...r.pairQueries];
}

function concatRows(parts: tf.Tensor2D[]): tf.Tensor2D {
  return parts.length === 1 ? parts[0] : (tf.concat(parts) as tf.Tensor2D);
}

/** Per-pair rows (pair-major) as the dictionary takes them. */
export function flattenPairs(pairs: tf.Tensor2D[]): tf.Tensor2D {
  return concatRows(pairs);
}

/** The batch's indices once per view pair, aligned with flattenPairs' rows. */
export function pairIndices(indices: tf.Tensor1D | undefined, pairs: number): tf.Tensor1D | undefined {
  if (!indices) return undefined;
  return pairs === 1 ? indices : (tf.concat(Array.from({ length: pairs }, () => indices)) as tf.Tensor1D);
}

/** [start, size] of consecutive micro-batches of at most `limit` images (0: the whole batch), near-equal in size. */
export function microBatches(n: number, limit: number): [number, number][] {
  let start = 0;
  return groupSizes(n, limit > 0 ? Math.ceil(n / limit) : 1).map((size) => {
    const part: [number, number] = [start, size];
    start += size;
    return part;
  });
}

function readElement(element: Element): { images: tf.Tensor4D; indices?: tf.Tensor1D } {
  const obj = element as { xs?: unknown; index?: unknown } | null;
  const images = element instanceof tf.Tensor ? element : obj?.xs;
  if (!(images instanceof tf.Tensor)) {
    throw new TypeError('fit: each dataset element must be an image tensor [H,W,C] or an object {xs: image, index?: number}.');
  }
  if (images.rank !== 4) {
    throw new Error(`fit: batched images must be [batch, height, width, channels]; got shape ${JSON.stringify(images.shape)}. Give the dataset unbatched [H,W,C] images (fit batches them).`);
  }
  const index = element instanceof tf.Tensor ? undefined : obj?.index;
  if (index !== undefined && !(index instanceof tf.Tensor)) throw new TypeError('fit: element.index must be a number per image.');
  return { images: images as tf.Tensor4D, indices: index ? tf.tidy(() => tf.reshape(tf.cast(index, 'int32'), [-1]) as tf.Tensor1D) : undefined };
}
