// The fit loop around the step: plan the run, then epoch by epoch hand each batch to the step executor, publish
// `step` and `epoch-ended` events, run the epoch tasks and write checkpoints on their cadence. The step itself
// (Algorithm 1) is in src/step/moco-step.ts; how it is carried out, in src/execution.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfd from '@tensorflow/tfjs-data';
import type * as tfl from '@tensorflow/tfjs-layers';
import { MicroBatchExecutor } from '../execution/micro-batch-executor.js';
import { OneThreadExecutor } from '../execution/one-thread-executor.js';
import type { StepExecutor, StepResult } from '../execution/step-executor.js';
import { configErrorFromLines } from '../registry/config-error.js';
import { formatIssues } from '../registry/format-issues.js';
import type { StepContext } from '../strategies/step-context.js';
import { readBatch } from './batch-element.js';
import type { EpochAwareDataset, EpochTask } from './epoch-task.js';
import { fitOptionsSchema, planFit, type FitOptions, type ParsedFitOptions } from './fit-options.js';
import { learningRateAt } from './lr-schedule.js';
import type { MocoTrainer } from './moco-trainer.js';
import { NonFiniteLossError } from './non-finite.js';
import type { FitPlan } from './training-state.js';

export class FitLoop {
  private readonly epochTasks: EpochTask[] = [];
  private stopRequested = false;
  /** A revised end (Moco.endAfter): the run completes after this optimizer step. */
  private endStep: number | undefined;
  private fitting = false;
  private pausedAtBoundary = 0;

  constructor(
    private readonly trainer: MocoTrainer,
    /** Writes a checkpoint of the run into a folder (file I/O lives outside the loop). */
    private readonly saveCheckpoint: (dir: string) => Promise<void>,
  ) {}

  /** Ask the run to stop after the current step (an epoch's last step still ends its epoch). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * End the current (or next) fit as completed once `step` optimizer steps are done, instead of at its planned
   * end; undefined restores the planned end. The epoch in progress is closed (event, tasks), the learning-rate
   * schedule is stretched or squeezed to finish at the new end (its progress is step / end), and a final
   * checkpoint is written as for any end. For callers that re-plan a run against a wall-time budget.
   */
  endAfter(step: number | undefined): void {
    if (step !== undefined && !(Number.isInteger(step) && step >= 1)) {
      throw new Error(`endAfter: step must be a whole number >= 1 (optimizer steps from the run's start), got ${String(step)}`);
    }
    this.endStep = step;
  }

  /** Steps the run is planned to take now: the revised end if any, else the plan's. */
  private totalSteps(plan: FitPlan): number | undefined {
    return this.endStep !== undefined && (plan.totalSteps === undefined || this.endStep < plan.totalSteps) ? this.endStep : plan.totalSteps;
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
   * loop waits at an epoch boundary (epoch tasks) or for its own checkpoint. Not from a step event.
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

  /** Train; resolves with the user's backbone, its weights replaced by the trained ones. */
  async fit<T extends tf.TensorContainer>(dataset: tfd.Dataset<T>, options: FitOptions): Promise<tfl.LayersModel> {
    const opts = this.checkOptions(dataset, options);
    const trainer = this.trainer;
    const mocoStep = await trainer.build();
    const plan = planFit(opts, dataset.size);
    if (this.fitting) throw new Error('fit: this run is already training (await the first fit before calling it again)');
    trainer.plan = plan;
    const every = opts.checkpointDir ? (opts.checkpointEvery ?? { epochs: 1 }) : undefined;
    let savedAt: string | undefined;
    const checkpoint = async () => {
      const { epoch, stepInEpoch, step } = trainer.position;
      const at = `${epoch}/${stepInEpoch}/${step}`;
      if (!opts.checkpointDir || savedAt === at) return;
      await this.paused(() => this.saveCheckpoint(opts.checkpointDir!));
      savedAt = at;
    };
    this.stopRequested = false;
    const events = trainer.events;
    events.beginRun();
    const started = performance.now();
    events.emit({
      type: 'run-started',
      config: trainer.config as Record<string, unknown>,
      backend: tf.getBackend(),
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      totalSteps: plan.totalSteps,
      datasetSize: plan.datasetSize,
      startStep: trainer.position.step,
      startEpoch: trainer.position.epoch,
    });
    let reason: 'completed' | 'stopped' = 'completed';
    let executor: StepExecutor | undefined;
    this.fitting = true;
    try {
      if (!trainer.dictionaryIsReady) {
        trainer.prepareDictionary({ dim: trainer.settings.head.dim, batchSize: opts.batchSize, datasetSize: plan.datasetSize, totalSteps: plan.totalSteps });
      }
      executor =
        opts.workers > 1
          ? await opts.workerExecutor!({ run: trainer, step: mocoStep, workers: opts.workers, workerPlugins: opts.workerPlugins!, microBatch: trainer.settings.microBatch })
          : trainer.settings.microBatch > 0
            ? new MicroBatchExecutor(mocoStep, trainer.settings.microBatch)
            : new OneThreadExecutor(mocoStep);
      // A step checkpoint due at an epoch's last step waits for the epoch's end (and its tasks).
      let checkpointPending = false;
      let skips = 0;
      epochs: while (trainer.position.epoch < opts.epochs && !(this.endStep !== undefined && trainer.position.step >= this.endStep)) {
        const epochStart = performance.now();
        const totals = { loss: 0, accuracy: 0, steps: 0, images: 0 };
        const iterator = await this.epochIterator(dataset, opts.batchSize);
        while (plan.stepsPerEpoch === undefined || trainer.position.stepInEpoch < plan.stepsPerEpoch) {
          const next = await iterator.next();
          if (next.done) break;
          const { epoch, step } = trainer.position;
          const t0 = performance.now();
          // Fraction of training done: by steps when the run's length is known, else by whole epochs.
          const total = this.totalSteps(plan);
          const progress = total ? step / total : epoch / plan.epochs;
          const ctx: StepContext = { epoch, step, progress, random: trainer.random };
          const learningRate = learningRateAt(trainer.settings.optimizer, progress);
          let result: StepResult;
          try {
            const batch = readBatch(next.value, trainer.strategies.dictionary, trainer.capabilities.dictionary.needsIndices);
            try {
              result = await executor.run(batch, ctx, learningRate);
            } finally {
              batch.indices?.dispose();
            }
          } finally {
            tf.dispose(next.value);
          }
          // The step's numbers, read back from the device once, were checked before its update (step-reading.ts):
          // a non-finite step changed nothing. Stop here (no checkpoint is written after it), or skip it.
          if (!result.applied) {
            // Skipping cannot undo BatchNorm statistics the forward passes already poisoned: those stop too.
            const stop = opts.nonFinite.policy === 'stop' || skips >= opts.nonFinite.maxSkips || !result.statisticsFinite;
            if (stop) throw new NonFiniteLossError(step, result, skips);
            skips++;
          }
          this.publishStep(result, ctx, learningRate, { ...plan, totalSteps: total }, (performance.now() - t0) / 1000);
          if (result.applied) {
            totals.loss += result.loss;
            totals.accuracy += result.accuracy;
            totals.steps++;
          }
          totals.images += result.batch;
          trainer.stepDone();
          await this.rethrowSubscriberError();
          const done = trainer.position;
          const ending = this.endStep !== undefined && done.step >= this.endStep;
          const epochDone = ending || (plan.stepsPerEpoch !== undefined && done.stepInEpoch >= plan.stepsPerEpoch);
          if (every && 'steps' in every && done.step % every.steps === 0) {
            if (epochDone) checkpointPending = true;
            else await checkpoint();
          }
          // A stop at an epoch's last step still ends the epoch (event, tasks), below.
          if (this.stopRequested && !epochDone) {
            reason = 'stopped';
            break epochs;
          }
          if (ending) break;
        }
        await this.endEpoch(totals, (performance.now() - epochStart) / 1000, opts.epochs);
        if (checkpointPending || (every && 'epochs' in every && trainer.position.epoch % every.epochs === 0)) await checkpoint();
        checkpointPending = false;
        if (this.stopRequested && trainer.position.epoch < opts.epochs) {
          reason = 'stopped';
          break;
        }
      }
      trainer.exportInto(trainer.backbone);
      // The final state, so that a stopped run can be resumed and a finished one is on disk.
      await checkpoint();
      const { epoch, step: steps } = trainer.position;
      events.emit({ type: 'run-ended', reason, epochs: epoch, steps, seconds: (performance.now() - started) / 1000 });
      return trainer.backbone;
    } catch (err) {
      events.emit({ type: 'error', message: err instanceof Error ? err.message : String(err), step: trainer.position.step });
      throw err;
    } finally {
      await executor?.dispose();
      this.fitting = false;
      this.endStep = undefined;
      events.endRun();
    }
  }

  /** Close the epoch: its `epoch-ended` event, then the epoch tasks (awaited, at a safe point for checkpoints). */
  private async endEpoch(totals: { loss: number; accuracy: number; steps: number; images: number }, seconds: number, epochs: number): Promise<void> {
    const { trainer } = this;
    const { events } = trainer;
    const finished = trainer.position.epoch;
    events.emit({
      type: 'epoch-ended',
      epoch: finished,
      steps: totals.steps,
      meanLoss: totals.steps ? totals.loss / totals.steps : NaN,
      meanPretextAccuracy: totals.steps ? totals.accuracy / totals.steps : NaN,
      seconds,
      imagesPerSecond: totals.images / seconds,
    });
    trainer.epochDone();
    for (const task of [...this.epochTasks]) {
      await this.paused(async () => task({ epoch: finished, epochs, step: trainer.position.step, emit: (event) => events.emit(event) }));
    }
    await this.rethrowSubscriberError();
  }

  /** The `step` event: the executor's result with the step's position, schedule and dictionary fill. */
  private publishStep(result: StepResult, ctx: StepContext, learningRate: number, plan: FitPlan, seconds: number): void {
    const trainer = this.trainer;
    const { dictionary, update } = trainer.strategies;
    const negatives = trainer.step?.lastNegatives ?? 0;
    const dict = dictionary.stats?.() ?? { size: negatives, filled: negatives };
    trainer.events.emit({
      type: 'step',
      epoch: ctx.epoch,
      step: ctx.step,
      stepInEpoch: trainer.position.stepInEpoch,
      batchSize: result.batch,
      loss: result.loss,
      pretextAccuracy: result.accuracy,
      learningRate,
      // The key encoder's moving-average coefficient m (eq. 2) at this step, not SGD's momentum.
      keyEncoderMomentum: trainer.usesKeyEncoder ? update.momentumAt?.(ctx) : undefined,
      dictionaryFill: dict.size ? dict.filled / dict.size : 1,
      dictionarySize: dict.size,
      imagesPerSecond: result.batch / seconds,
      progress: plan.totalSteps ? (ctx.step + 1) / plan.totalSteps : ctx.progress,
      gradientNorm: result.gradientNorm,
      ...(result.applied ? {} : { skipped: true }),
    });
  }

  /** The epoch's batches; a data set that asks is told the epoch first, and a resumed run skips what it trained on. */
  private async epochIterator<T extends tf.TensorContainer>(dataset: tfd.Dataset<T>, batchSize: number) {
    const { epoch, stepInEpoch } = this.trainer.position;
    const epochAware = dataset as unknown as Partial<EpochAwareDataset>;
    if (typeof epochAware.setEpoch === 'function') epochAware.setEpoch(epoch);
    const iterator = await dataset.batch(batchSize).iterator();
    for (let i = 0; i < stepInEpoch; i++) {
      const skipped = await iterator.next();
      if (skipped.done) break;
      tf.dispose(skipped.value as tf.TensorContainer);
    }
    return iterator;
  }

  /** Let rxjs report a throwing subscriber (it does so from a 0 ms timer) before going on. */
  private async rethrowSubscriberError(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const subscriberError = this.trainer.events.takeError();
    if (subscriberError) throw subscriberError;
  }

  private checkOptions<T extends tf.TensorContainer>(dataset: tfd.Dataset<T>, options: FitOptions): ParsedFitOptions {
    const parsed = fitOptionsSchema.safeParse(options ?? {});
    if (!parsed.success) throw configErrorFromLines(formatIssues('fit', parsed.error, options));
    const opts = parsed.data;
    if (!dataset || typeof dataset.batch !== 'function') {
      throw new TypeError('fit: dataset must be a tf.data.Dataset of images [H,W,C] or of {xs, index} elements.');
    }
    const { dictionary } = this.trainer.strategies;
    const micro = this.trainer.settings.microBatch;
    const { negativesFromBatch } = this.trainer.capabilities.dictionary;
    if (micro > 0 && micro < opts.batchSize && negativesFromBatch) {
      throw configErrorFromLines([
        `microBatch: ${micro} would split each batch of ${opts.batchSize}, but dictionary '${dictionary.id}' takes its negatives from the batch, so K would shrink to the micro-batch; set microBatch to 0 (or at least batchSize), or lower batchSize`,
      ]);
    }
    if (opts.workers > 1) {
      if (negativesFromBatch) {
        throw configErrorFromLines([
          `fit.workers: ${opts.workers} would split each batch of ${opts.batchSize}, but dictionary '${dictionary.id}' takes its negatives from the batch, so K would shrink to a worker's share; set workers to 1`,
        ]);
      }
      // Every missing piece at once: a user setting up workers learns both what to pass and where it comes from.
      const missing: string[] = [];
      if (!opts.workerPlugins?.length) {
        missing.push(
          `fit.workerPlugins: workers: ${opts.workers} trains in worker threads, which load the run's plugins by module; give the modules, e.g. workerPlugins: ['tfjs-moco/plugins'] (or set workers to 1)`,
        );
      }
      if (!opts.workerExecutor) {
        missing.push(
          `fit.workerExecutor: workers: ${opts.workers} trains in worker threads, which the library's main entry (browser-safe) does not start; pass workerExecutor: workerThreadExecutor from 'tfjs-moco/node' (or set workers to 1)`,
        );
      }
      if (missing.length) throw configErrorFromLines(missing);
    }
    if (opts.checkpointEvery && !opts.checkpointDir) throw configErrorFromLines(['fit.checkpointEvery: needs fit.checkpointDir, the folder to write checkpoints to']);
    return opts;
  }
}
