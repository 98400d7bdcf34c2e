// How a step is carried out: the same Algorithm 1 step (src/step/moco-step.ts) on one thread, in micro-batches,
// or split over worker threads. The fit loop hands every batch to one executor and reads its result.
import type { StepContext } from '../strategies/step-context.js';
import type { StepBatch } from '../step/moco-step.js';
import type { StepReading } from '../step/step-reading.js';

/**
 * What a step reports back, read from the device once per step (src/step/step-reading.ts): loss, pretext
 * accuracy (the share of queries whose positive key scored highest), gradient norm, and whether all were finite.
 */
export interface StepResult extends StepReading {
  /** Images in the batch (the last one of an epoch may be short). */
  readonly batch: number;
  /**
   * Whether the update (SGD, key encoder, dictionary) was applied: false exactly when the reading was not finite,
   * in which case the run's trainable state is that of before the step.
   */
  readonly applied: boolean;
}

/**
 * Runs whole training steps. `run` trains on one batch (the executor does not own it) with the learning rate
 * the schedule gives this step; `dispose` frees what the executor started (threads), not the run's state.
 *
 * @example
 * const result = await executor.run({ images, indices }, { epoch, step, progress, random }, learningRate);
 * if (!result.applied) console.log(`step ${step} was not finite (loss ${result.loss}): nothing was updated`);
 */
export interface StepExecutor {
  run(batch: StepBatch, ctx: StepContext, learningRate: number): Promise<StepResult>;
  dispose(): void | Promise<void>;
}
