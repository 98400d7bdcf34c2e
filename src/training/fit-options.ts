import { z } from 'zod';
import type { StepExecutor } from '../execution/step-executor.js';
import type { MocoStep } from '../step/moco-step.js';
import type { Checkpointable, FitPlan } from './training-state.js';

/** What starts the executor of a data-parallel fit: the run, its step, and the fit's worker options. */
export interface WorkerSetup {
  /** The run whose state the workers start from (a snapshot, taken at a step boundary). */
  readonly run: Checkpointable;
  /** The run's step, which this thread runs its share of. */
  readonly step: MocoStep;
  /** Threads to train on, this one included (> 1). */
  readonly workers: number;
  /** Module specifiers the worker threads import to get the run's plugins. */
  readonly workerPlugins: readonly string[];
  /** The run's `microBatch`: the largest forward/backward pass of any thread (0: a whole share). */
  readonly microBatch: number;
}

/**
 * Starts the worker threads of a data-parallel fit and returns the executor that trains on them. The library's
 * main entry runs in browsers and holds none: Node's is `workerThreadExecutor` from 'tfjs-moco/node'.
 */
export type WorkerExecutorFactory = (setup: WorkerSetup) => Promise<StepExecutor>;

export const fitOptionsSchema = z
  .object({
    epochs: z.number().int().min(1),
    /** Images per step; the paper uses 256 over 8 GPUs. Default 256. */
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
     * Threads to train on (data parallel): this one plus workers − 1 worker threads, each with its own backend,
     * each computing a share of every batch. Needs `workerPlugins` and, outside the CLI, `workerExecutor`. Default 1.
     */
    workers: z.number().int().min(1).max(64).default(1),
    /**
     * With workers > 1: module specifiers (URLs or package paths) the worker threads import to get the run's
     * plugins; each module exports them as `plugins`, `builtinPlugins` or default (e.g. 'tfjs-moco/plugins').
     * A backbone with custom layers also needs a module here that registers them.
     */
    workerPlugins: z.array(z.string().min(1)).optional(),
    /**
     * What to do when a step's loss, gradient norm or BatchNorm statistics are NaN or ±Infinity (a diverging run).
     * The step's update is never applied, and no checkpoint is written from a non-finite state.
     * - `policy` (default `'stop'`): `'stop'` ends the run at that step (an `error` event, then `fit` rejects
     *   with a `NonFiniteLossError`); `'skip'` drops the step (its `step` event has `skipped: true`) and goes on.
     * - `maxSkips` (default 10, with `'skip'`): after this many skipped steps in one fit the run stops as with `'stop'`.
     */
    nonFinite: z
      .object({
        policy: z.enum(['stop', 'skip']).default('stop'),
        maxSkips: z.number().int().min(0).default(10),
      })
      .strict()
      .default({ policy: 'stop', maxSkips: 10 }),
    /** With workers > 1: what starts the worker threads, `workerThreadExecutor` from 'tfjs-moco/node'. */
    workerExecutor: z.custom<WorkerExecutorFactory>((v) => typeof v === 'function', { message: "expected a function, e.g. workerThreadExecutor from 'tfjs-moco/node'" }).optional(),
  })
  .strict();

/**
 * Options of `fit`. Example: `{ epochs: 200, batchSize: 256, checkpointDir: 'ckpt' }`; on two threads in Node,
 * add `workers: 2, workerPlugins: ['tfjs-moco/plugins'], workerExecutor: workerThreadExecutor`.
 */
export type FitOptions = z.input<typeof fitOptionsSchema>;
export type ParsedFitOptions = z.output<typeof fitOptionsSchema>;

/** The sizes of a fit: steps per epoch and in total when the data set's size is known. */
export function planFit(options: ParsedFitOptions, datasetSizeHint: number): FitPlan {
  const datasetSize = options.datasetSize ?? (Number.isFinite(datasetSizeHint) && datasetSizeHint > 0 ? datasetSizeHint : undefined);
  const stepsPerEpoch = options.stepsPerEpoch ?? (datasetSize ? Math.ceil(datasetSize / options.batchSize) : undefined);
  const totalSteps = stepsPerEpoch ? stepsPerEpoch * options.epochs : undefined;
  return { epochs: options.epochs, batchSize: options.batchSize, stepsPerEpoch, datasetSize, totalSteps };
}
