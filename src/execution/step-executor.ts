// How a step is carried out: the same Algorithm 1 step (src/step/moco-step.ts) on one thread, in micro-batches,
// or split over worker threads. The fit loop hands every batch to one executor and reads its result.
import type { StepContext } from '../strategies/step-context.js';
import type { StepBatch } from '../step/moco-step.js';

/** What a step reports back, read from the device once per step. */
export interface StepResult {
  /** The loss of the batch (mean over its images). */
  readonly loss: number;
  /** Pretext accuracy: the share of queries whose positive key scored highest. */
  readonly accuracy: number;
  /** Images in the batch (the last one of an epoch may be short). */
  readonly batch: number;
}

/**
 * Runs whole training steps. `run` trains on one batch (the executor does not own it) with the learning rate
 * the schedule gives this step; `dispose` frees what the executor started (threads), not the run's state.
 *
 * @example
 * const result = await executor.run({ images, indices }, { epoch, step, progress, random }, learningRate);
 * if (!Number.isFinite(result.loss)) throw new Error(`loss ${result.loss} at step ${step}`);
 */
export interface StepExecutor {
  run(batch: StepBatch, ctx: StepContext, learningRate: number): Promise<StepResult>;
  dispose(): void | Promise<void>;
}
