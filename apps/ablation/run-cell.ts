// One ablation cell: pretrain a fresh encoder with the cell's config for a fixed wall-clock budget (a step
// subscriber calls `moco.stop()` once the training time reaches it), then score the encoder with kNN (with its
// running BatchNorm statistics, and after re-estimating them). With a timeline, training pauses a few times for
// the same kNN on a small subset; paused time does not count as training.
import type * as tfl from '@tensorflow/tfjs-layers';
import { imageSetToDataset, type ImageSet } from '../../src/data/image-set.js';
import { mixSeed } from '../../src/data/seeded-random.js';
import { createMoco } from '../../src/moco.js';
import type { MocoConfigInput } from '../../src/config/moco-config.js';
import type { MocoPlugin } from '../../src/registry/moco-plugin.js';
import { encoderKnn, type EncoderKnn, type KnnSets, type KnnSettings } from './knn-score.js';
import type { PreciseBnOptions } from './precise-bn.js';
import { cellConfig, type StudyCell } from './studies.js';

/** kNN on a small subset at evenly spaced moments of the training budget. */
export interface TimelineSettings extends KnnSets {
  /** Evaluations during training (the last one is after the budget); default 8. */
  readonly points?: number;
  /** kNN accuracies of the same encoder at random init on these sets, recorded as the point at step 0. */
  readonly initialKnn?: EncoderKnn;
  /** kNN settings of the points; default the cell's (env.knn). */
  readonly knn?: KnnSettings;
  /** BatchNorm re-estimation before each point; default 2 batches of 256. */
  readonly preciseBn?: PreciseBnOptions;
}

export interface CellEnvironment {
  /** Images to pretrain on (labels are not used). */
  readonly train: ImageSet;
  /** The fixed kNN evaluation of every cell. */
  readonly evaluation: KnnSets;
  readonly knn?: KnnSettings;
  /** BatchNorm re-estimation before the final kNN, on images of `train`; default 4 batches of 256, seed 0. */
  readonly preciseBn?: PreciseBnOptions;
  /** A fresh encoder, initialised from `seed` (the same seed gives the same weights). */
  readonly makeEncoder: (seed: number) => tfl.LayersModel;
  /** The recipe the cell's overrides apply to; default ABLATION_BASE_CONFIG. */
  readonly baseConfig?: MocoConfigInput;
  /** The strategies the configs name (the built-ins: builtinPlugins from plugins/). */
  readonly plugins: readonly MocoPlugin[];
  readonly log?: (message: string) => void;
}

/**
 * What the budget counts: 'wall' (default) seconds of training on the clock, or 'cpu' seconds this process
 * spent training (user + system). On a machine shared with other work the two differ, and only the CPU
 * clock gives every cell the same amount of computation.
 */
export type BudgetClock = 'wall' | 'cpu';

export interface CellRunOptions {
  /** Training seconds on `clock`; the step that crosses it is the last. */
  readonly budgetSeconds: number;
  /** Default 'wall'. */
  readonly clock?: BudgetClock;
  /** Seeds the encoder's init, the MoCo run (augmentation, queue, shuffles) and the data order. */
  readonly seed: number;
  /** Record pretext accuracy and kNN over time. */
  readonly timeline?: TimelineSettings;
}

export interface TimelinePoint {
  readonly step: number;
  readonly trainSeconds: number;
  /** Mean over the steps since the previous point (NaN at step 0). */
  readonly loss: number;
  readonly pretextAccuracy: number;
  /** kNN after re-estimating the BatchNorm statistics, and with the running ones. */
  readonly knn: number;
  readonly knnRunningBn: number;
}

export interface CellResult {
  readonly cellId: string;
  readonly label: string;
  readonly seed: number;
  readonly budgetSeconds: number;
  readonly clock: BudgetClock;
  /** Optimizer steps done. */
  readonly steps: number;
  readonly images: number;
  /** Wall-clock seconds of training (from run start to the last step, minus timeline pauses). */
  readonly trainSeconds: number;
  /**
   * CPU seconds this process spent over the same span (user + system, all its threads). Below trainSeconds
   * when other processes compete for the cores: the share of the machine the cell actually had.
   */
  readonly trainCpuSeconds: number;
  /** Wall-clock seconds of the whole cell: building, training, pauses, evaluation. */
  readonly wallSeconds: number;
  /** Images per second of the budget's clock (wall or CPU). */
  readonly imagesPerSecond: number;
  /** Mean loss / pretext accuracy over the last `tailSteps` steps (see tailLength). */
  readonly finalLoss: number;
  readonly finalPretextAccuracy: number;
  readonly tailSteps: number;
  /** kNN accuracy in [0, 1] on the study's fixed evaluation sets after re-estimating the BatchNorm statistics; NaN if the cell failed. */
  readonly knn: number;
  /** The same with the running BatchNorm statistics the run left. */
  readonly knnRunningBn: number;
  /** Share of the dictionary holding real keys at the end (1 for in-batch and memory bank). */
  readonly dictionaryFill: number;
  /** Per-step loss and pretext accuracy, and the training seconds (on the budget's clock) at the end of each step. */
  readonly losses: readonly number[];
  readonly pretextAccuracies: readonly number[];
  readonly stepEndSeconds: readonly number[];
  readonly timeline: readonly TimelinePoint[];
  readonly warnings: readonly string[];
  /** Set when the cell could not be trained or evaluated. */
  readonly error?: string;
}

/** At most this many last steps make the final loss and pretext accuracy. */
export const TAIL_STEPS = 10;

/**
 * How many last steps the final numbers average: 10, or the second half of a shorter run (its first steps,
 * against a dictionary of random vectors, say nothing about where the run ended).
 */
export function tailLength(steps: number): number {
  return Math.min(TAIL_STEPS, Math.ceil(steps / 2));
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Train and evaluate one cell. Errors in training or evaluation are caught and returned in `error` (with
 * NaN accuracy), so a study goes on with its other cells.
 */
export async function runCell(cell: StudyCell, env: CellEnvironment, options: CellRunOptions): Promise<CellResult> {
  const log = env.log ?? (() => {});
  const { budgetSeconds, seed, timeline } = options;
  const clock = options.clock ?? 'wall';
  if (!(budgetSeconds > 0)) throw new RangeError(`runCell: budgetSeconds must be > 0, got ${budgetSeconds}`);
  const wallStart = performance.now();
  const losses: number[] = [];
  const accuracies: number[] = [];
  const stepEnds: number[] = [];
  const points: TimelinePoint[] = [];
  const warnings: string[] = [];
  let runStart = NaN;
  let paused = 0;
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let cpuStart = NaN;
  let cpuPaused = 0;
  let trainCpu = 0;
  let trainWall = 0;
  let fill = 1;
  let images = 0;
  let error: string | undefined;
  let knn: EncoderKnn = { knn: NaN, knnRunningBn: NaN };
  let stopped = false;
  const wallTraining = () => (Number.isNaN(runStart) ? 0 : (performance.now() - runStart) / 1000 - paused);
  const cpuTraining = () => (Number.isNaN(cpuStart) ? 0 : cpuNow() - cpuStart - cpuPaused);

  const encoder = env.makeEncoder(seed);
  let moco: ReturnType<typeof createMoco> | undefined;
  try {
    moco = createMoco({ backbone: encoder, plugins: env.plugins, config: cellConfig(cell, seed, env.baseConfig) });
    const run = moco;
    run.on('run-started').subscribe(() => {
      runStart = performance.now();
      cpuStart = cpuNow();
    });
    run.on('warning').subscribe((e) => {
      warnings.push(e.message);
      log(`  warning: ${e.message}`);
    });
    run.on('step').subscribe((e) => {
      trainWall = wallTraining();
      trainCpu = cpuTraining();
      losses.push(e.loss);
      accuracies.push(e.pretextAccuracy);
      images += e.batchSize;
      fill = e.dictionaryFill;
      stepEnds.push(clock === 'cpu' ? trainCpu : trainWall);
      if (!stopped && stepEnds[stepEnds.length - 1] >= budgetSeconds) {
        stopped = true;
        run.stop();
      }
    });

    const monitor = timeline;
    const pointCount = Math.max(1, Math.floor(monitor?.points ?? 8));
    let nextPoint = 1;
    let pointFromStep = 0;
    const addPoint = async () => {
      const t0 = performance.now();
      const c0 = cpuNow();
      // exportEncoder copies every query weight, running statistics included, into the backbone: the
      // re-estimation below changes only that copy, and the next export overwrites it.
      const accuracy = await encoderKnn(run.exportEncoder(), monitor!, monitor!.knn ?? env.knn ?? {}, { images: env.train, batches: 2, ...monitor!.preciseBn });
      paused += (performance.now() - t0) / 1000;
      cpuPaused += cpuNow() - c0;
      const since = { losses: losses.slice(pointFromStep), acc: accuracies.slice(pointFromStep) };
      points.push({ step: losses.length, trainSeconds: stepEnds.length ? stepEnds[stepEnds.length - 1] : 0, loss: mean(since.losses), pretextAccuracy: mean(since.acc), ...accuracy });
      pointFromStep = losses.length;
      log(`  step ${losses.length}: pretext ${(100 * mean(since.acc)).toFixed(1)} %, kNN ${(100 * accuracy.knn).toFixed(2)} % (running BN ${(100 * accuracy.knnRunningBn).toFixed(2)} %)`);
    };
    if (monitor) {
      if (monitor.initialKnn !== undefined) points.push({ step: 0, trainSeconds: 0, loss: NaN, pretextAccuracy: NaN, ...monitor.initialKnn });
      // One step per "epoch", so that an epoch task can pause training after any step; each epoch draws its
      // batch from a fresh seeded permutation of the data.
      run.addEpochTask(async () => {
        if (stopped || nextPoint >= pointCount) return;
        if (stepEnds[stepEnds.length - 1] < (budgetSeconds * nextPoint) / pointCount) return;
        nextPoint++;
        await addPoint();
      });
    }

    const dataset = imageSetToDataset(env.train, { shuffle: true, seed: mixSeed(seed, 0x0ab1a7e) });
    await run.fit(dataset, { epochs: 1_000_000_000, batchSize: cell.batchSize, ...(monitor ? { stepsPerEpoch: 1 } : {}) });
    if (monitor) await addPoint();
    knn = await encoderKnn(run.exportEncoder(), env.evaluation, env.knn ?? {}, { images: env.train, batches: 4, ...env.preciseBn });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    log(`  failed: ${error}`);
  } finally {
    moco?.dispose();
    encoder.dispose();
  }
  // As of the last step (pauses after it, e.g. the timeline's last point, are not training either).
  const budgetClockSeconds = stepEnds.length ? stepEnds[stepEnds.length - 1] : 0;
  const tail = tailLength(losses.length);
  return {
    cellId: cell.id,
    label: cell.label,
    seed,
    budgetSeconds,
    clock,
    steps: losses.length,
    images,
    trainSeconds: trainWall,
    trainCpuSeconds: trainCpu,
    wallSeconds: (performance.now() - wallStart) / 1000,
    imagesPerSecond: budgetClockSeconds > 0 ? images / budgetClockSeconds : NaN,
    finalLoss: mean(losses.slice(losses.length - tail)),
    finalPretextAccuracy: mean(accuracies.slice(accuracies.length - tail)),
    tailSteps: tail,
    knn: knn.knn,
    knnRunningBn: knn.knnRunningBn,
    dictionaryFill: fill,
    losses,
    pretextAccuracies: accuracies,
    stepEndSeconds: stepEnds,
    timeline: points,
    warnings,
    ...(error !== undefined ? { error } : {}),
  };
}
