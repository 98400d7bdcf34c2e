// How long to train: measure this machine's speed on the real job (a throwaway copy of the encoder, a couple of
// real steps), then choose epochs and steps so that training, monitoring and the final evaluation fit the
// wall-time budget.
import * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSet } from '../../src/data/image-set.js';
import { extractFeatures } from '../../src/eval/features.js';
import type { ResolvedConfig } from '../../src/config/moco-config.js';
import { createMoco } from '../../src/moco.js';
import type { MocoPlugin } from '../../src/registry/moco-plugin.js';
import type { FitOptions } from '../../src/training/fit-options.js';
import { resumableImageDataset } from '../../src/checkpoint/epoch-dataset.js';
import { stratifiedSubset, subsetImageSet } from '../../src/data/index.js';

export interface Speed {
  /** Training images per second: the median of the later half of the timed steps (see planningRate). */
  trainImagesPerSecond: number;
  /** Inference images per second (feature extraction, as kNN and the probe need). */
  inferImagesPerSecond: number;
  /** Wall time the measurement took. */
  seconds: number;
}

/** Run `steps` (default 2, at least 2) real training steps on a throwaway run, and time feature extraction. */
export async function measureSpeed(opts: {
  makeBackbone: () => tfl.LayersModel;
  plugins: readonly MocoPlugin[];
  /** The run's resolved MoCo config (the throwaway run uses the very same). */
  mocoConfig: ResolvedConfig;
  train: ImageSet;
  batchSize: number;
  steps?: number;
  /** Data-parallel fit options (workers, workerPlugins, workerExecutor), so the speed measured is the run's. */
  parallel?: Pick<FitOptions, 'workers' | 'workerPlugins' | 'workerExecutor'>;
}): Promise<Speed> {
  const started = performance.now();
  const backbone = opts.makeBackbone();
  const moco = createMoco({ backbone, plugins: opts.plugins, config: opts.mocoConfig });
  const rates: number[] = [];
  moco.on('step').subscribe((e) => rates.push(e.imagesPerSecond));
  let infer = NaN;
  try {
    const steps = Math.max(2, opts.steps ?? 2);
    await moco.fit(resumableImageDataset(opts.train, { seed: 1 }), { epochs: 1, batchSize: opts.batchSize, stepsPerEpoch: steps, ...opts.parallel });
    // One untimed batch first: the first inference-mode calls compile and grow memory. Then three batches timed
    // one by one, the fastest kept: the replicas of a data-parallel measurement may still be applying their last
    // update on the other core, which the final evaluation never competes with. Timing the first calls, and all
    // of a batch pair, put the final evaluation's feature extraction at 43-50 s where it took ~35 s (full split,
    // 2026-12-06), budget the job then left unused.
    const images = (from: number, count: number) =>
      subsetImageSet(opts.train, Array.from({ length: Math.max(0, Math.min(count, opts.train.count - from)) }, (_, i) => from + i));
    const warmup = images(0, 256);
    extractFeatures(backbone, warmup, { batchSize: 256 }).dispose();
    for (let b = 1; b <= 3; b++) {
      const batch = images(b * 256, 256);
      const timed = batch.count > 0 ? batch : warmup; // a set of 256 images or fewer: timed again, warm
      const t0 = performance.now();
      extractFeatures(backbone, timed, { batchSize: 256 }).dispose();
      infer = Math.max(Number.isFinite(infer) ? infer : 0, timed.count / ((performance.now() - t0) / 1000));
    }
  } finally {
    moco.dispose();
    backbone.dispose();
  }
  return { trainImagesPerSecond: planningRate(rates), inferImagesPerSecond: infer, seconds: (performance.now() - started) / 1000 };
}

/**
 * The speed to plan with from the images/s of consecutive first steps: the median of the later half (never the
 * first step). The first steps run slow while V8 tiers up the WebAssembly and data-parallel workers start: in
 * the default job with --workers 2 steps 2-4 ran at 248-310 img/s and steps 10-60 at 300-500, and the plan from
 * steps 2-4 (210 img/s) ended the 10-minute job after 5.
 */
export function planningRate(rates: readonly number[]): number {
  if (rates.length === 0) throw new Error('planningRate: no steps were timed');
  const timed = rates.slice(Math.max(rates.length > 1 ? 1 : 0, Math.floor(rates.length / 2))).sort((a, b) => a - b);
  return timed[Math.floor(timed.length / 2)];
}

export interface Plan {
  epochs: number;
  /** Undefined: full passes over the data. */
  stepsPerEpoch?: number;
  totalSteps: number;
  /** Predicted wall time of training alone, and of the whole job from the start. */
  plannedTrainSeconds: number;
  plannedTotalSeconds: number;
  /** The costs planned with (seconds): one step, one monitor evaluation, the final evaluation (BudgetReplanner). */
  stepSeconds: number;
  monitorSeconds: number;
  finalSeconds: number;
  /** Why: a sentence for the log. */
  reason: string;
}

/** Images a kNN evaluation extracts features for (memory + queries). */
export function evalImages(train: ImageSet, test: ImageSet | undefined, trainPerClass: number, testPerClass: number): number {
  if (!test || !train.labels) return 0;
  const size = (set: ImageSet, perClass: number) => (perClass === 0 ? set.count : stratifiedCount(set, perClass));
  return size(train, trainPerClass) + size(test, testPerClass);
}

function stratifiedCount(set: ImageSet, perClass: number): number {
  const counts = new Map<number, number>();
  for (const l of set.labels ?? []) counts.set(l, (counts.get(l) ?? 0) + 1);
  let n = 0;
  for (const c of counts.values()) n += Math.min(c, perClass);
  return n;
}

/**
 * Predicted seconds of the final evaluation: feature extraction of `encoders` models (the trained one, plus
 * the random-init copy unless its baseline is cached) over train + test at the measured inference speed, a kNN
 * and a probe per feature set, and the raw-pixel kNN (plain and mean-centred) and probe unless cached
 * (apps/cli/baseline-cache.ts). The kNN and probe terms are fitted to timings on the 2-core test machine on the
 * full Fashion-MNIST split (wasm, one thread) at their slow end, with the other core busy: a kNN over 60k × 10k
 * pairs took 6-13 s at 64-d, 11.5 s at 128-d and 57-59 s at 784-d (a cost per pair linear in d + 43); a
 * 30-epoch probe 5-7 s at 64-128-d and ~70 s at 784-d, where its 188 MB of features no longer stay in cache
 * (so a higher cost per value above 256-d). On an idle machine the default job's final evaluation (128-d,
 * baselines cached) took 8.1 s of kNN and 3.9 s of probe (2026-12-06); the replanner scales the whole estimate
 * by how much slower steps run than planned, so a loaded machine is covered there. Plus 10 s for the report.
 */
export function finalEvaluationSeconds(p: {
  trainCount: number;
  testCount: number;
  inferImagesPerSecond: number;
  /** Encoders whose features are extracted: 1 (trained) or 2 (trained and random init). */
  encoders: number;
  featureDim: number;
  pixelDim: number;
  /** Raw-pixel baselines computed (not cached). */
  pixels: boolean;
  /** Probe epochs; 0 = no probe. */
  probeEpochs: number;
  numClasses: number;
}): number {
  const knn = (d: number) => (2 * p.trainCount * p.testCount * (d + 43)) / 1.71e10;
  const probe = (d: number) => (p.probeEpochs * p.trainCount * (d + 50) * p.numClasses * 6) / (d <= 256 ? 2.7e9 : 1.3e9);
  const extract = (p.encoders * (p.trainCount + p.testCount)) / p.inferImagesPerSecond;
  const encoders = p.encoders * (knn(p.featureDim) + probe(p.featureDim));
  const pixels = p.pixels ? 2 * knn(p.pixelDim) + probe(p.pixelDim) : 0;
  return extract + encoders + pixels + 10;
}

/**
 * Epochs and steps for a budget. Costs: a step takes batch / trainIps (plus one more step for the run's own
 * warm-up); a monitor evaluation monitorImages / inferIps; the final evaluation 2 × finalImages / inferIps
 * (encoder and random init) plus an allowance for the probes and the report. Full passes when they use the
 * budget to within 10 % of the steps it allows; else shorter epochs (plannedEpochs/2 to plannedEpochs, or one
 * more than the full passes that fit), each from a fresh shuffle, so that a machine fast enough for 1.3 passes
 * trains 1.3 passes' worth rather than one.
 */
export function planRun(p: {
  budgetSeconds: number;
  elapsedSeconds: number;
  speed: Speed;
  datasetSize: number;
  batchSize: number;
  plannedEpochs: number;
  knnEvery: number;
  monitorImages: number;
  finalImages: number;
  /** Predicted seconds of the final evaluation (finalEvaluationSeconds); default 2 × finalImages / inference speed + 10. */
  finalSeconds?: number;
}): Plan {
  const stepSeconds = p.batchSize / p.speed.trainImagesPerSecond;
  const inferIps = Number.isFinite(p.speed.inferImagesPerSecond) && p.speed.inferImagesPerSecond > 0 ? p.speed.inferImagesPerSecond : p.speed.trainImagesPerSecond * 4;
  const monitorSeconds = p.monitorImages / inferIps + 0.5;
  const finalSeconds = p.finalImages <= 0 ? 1 : (p.finalSeconds ?? (2 * p.finalImages) / inferIps + 10);
  // The monitor runs every knnEvery epochs and after the last.
  const evals = (epochs: number) => (p.knnEvery > 0 && p.monitorImages > 0 ? Math.ceil(epochs / p.knnEvery) : 0);
  const available = p.budgetSeconds - p.elapsedSeconds - finalSeconds - stepSeconds;
  const passSteps = Math.ceil(p.datasetSize / p.batchSize);
  const cost = (epochs: number, steps: number) => epochs * steps * stepSeconds + evals(epochs) * monitorSeconds;
  /** Steps per epoch that fit with `epochs` epochs. */
  const stepsFor = (epochs: number) => Math.floor((available - evals(epochs) * monitorSeconds) / (epochs * stepSeconds));
  let epochs: number;
  let stepsPerEpoch: number | undefined;
  let reason: string;
  let fullPasses = 0;
  while (cost(fullPasses + 1, passSteps) <= available) fullPasses++;
  // Shorter epochs: between plannedEpochs/2 and plannedEpochs of them (or one more than the full passes), the
  // most epochs (a finer monitor curve) whose steps are within 10 % of the most steps any of these counts allows
  // (fewer epochs: fewer evaluations, less rounding). An epoch is never longer than a pass.
  const candidates: number[] = [];
  for (let e = Math.max(1, Math.ceil(p.plannedEpochs / 2), fullPasses + 1); e <= Math.max(p.plannedEpochs, fullPasses + 1); e++) candidates.push(e);
  const stepsOf = (e: number) => e * Math.max(0, Math.min(stepsFor(e), passSteps));
  const most = Math.max(...candidates.map(stepsOf));
  if (fullPasses >= 1 && fullPasses * passSteps >= 0.9 * most) {
    epochs = fullPasses;
    reason = `${epochs} full pass(es) of ${passSteps} steps fit the budget`;
  } else {
    epochs = most < 1 ? 1 : Math.max(...candidates.filter((e) => stepsOf(e) >= 0.9 * most));
    stepsPerEpoch = Math.max(1, Math.min(stepsFor(epochs), passSteps));
    reason =
      fullPasses === 0
        ? `a full pass (${passSteps} steps, ≈ ${Math.round(passSteps * stepSeconds)} s) does not fit: ${epochs} epochs of ${stepsPerEpoch} steps, each from a fresh shuffle`
        : `${fullPasses} full pass(es) of ${passSteps} steps would leave budget unused: ${epochs} epochs of ${stepsPerEpoch} steps, each from a fresh shuffle`;
  }
  const totalSteps = epochs * (stepsPerEpoch ?? passSteps);
  const plannedTrainSeconds = (totalSteps + 1) * stepSeconds;
  return {
    epochs,
    stepsPerEpoch,
    totalSteps,
    plannedTrainSeconds,
    plannedTotalSeconds: p.elapsedSeconds + plannedTrainSeconds + evals(epochs) * monitorSeconds + finalSeconds,
    stepSeconds,
    monitorSeconds,
    finalSeconds,
    reason,
  };
}

/**
 * The fit's epochs for a budgeted plan: the plan's, plus headroom that re-planning may use. The plan rests on ten
 * steps measured once, and those can be slower than the run (the default job planned 265 img/s and trained at
 * 320 on 2026-12-06, ending 23 % early) as well as faster; re-planning can only move the end within the fit's
 * epochs. So the fit gets half as many epochs again (at least one), of the same length, and starts with its end at
 * the plan's: a run that turns out faster keeps training into them, one that is slower ends earlier as before.
 */
export function withHeadroom(plan: { epochs: number; totalSteps: number }, stepsPerEpoch: number): { epochs: number; totalSteps: number; endAfterStep: number } {
  const epochs = plan.epochs + Math.max(1, Math.ceil(plan.epochs / 2));
  return { epochs, totalSteps: epochs * stepsPerEpoch, endAfterStep: plan.totalSteps };
}

/**
 * Re-plans a budgeted run while it trains. The plan made before training rests on ten steps measured once;
 * on a shared machine the speed can drop later (another job starts) and the run then overruns its budget by
 * as much as it slowed. This watches the run's own step times and, at every step, works out how many more
 * steps fit: the time left in the budget, minus what still has to follow training (the kNN monitor's
 * remaining evaluations and the final evaluation, both scaled by how much slower steps now run than planned,
 * as they run on the same cores), divided by the recent step time (the median of the steps of the last
 * `windowSeconds`, so one slow step does not cut the run, nor noise move its end to and fro). It moves the end
 * anywhere up to the fit's last step (`plannedTotalSteps`, the plan plus headroom: withHeadroom), starting from
 * `plannedEndStep`; the learning-rate schedule follows the end (Moco.endAfter).
 *
 * Pure bookkeeping over an injected clock: the CLI feeds it `step` events and applies a revision with
 * Moco.endAfter.
 */
export class BudgetReplanner {
  private readonly recent: number[] = [];
  private recentSeconds = 0;
  /** The step the run now ends after (optimizer steps from the start). */
  endStep: number;

  constructor(
    private readonly p: {
      budgetSeconds: number;
      /** Seconds since the job started (the budget's clock). */
      now: () => number;
      /** The fit's last step: the furthest the end can move. */
      plannedTotalSteps: number;
      /** Where the plan ends (default plannedTotalSteps), and its assumptions: seconds per step, per monitor evaluation, for the final evaluation. */
      plannedEndStep?: number;
      plannedStepSeconds: number;
      monitorSeconds: number;
      finalSeconds: number;
      /** Monitor evaluations after `step` steps are done, including the one after the last step. */
      evalsAfter: (step: number, endStep: number) => number;
      /**
       * Seconds of recent steps whose median is the current step time, at least `window` steps: long enough that
       * per-step noise (two workers waiting on each other, a garbage collection) does not move the end back and
       * forth, short enough to follow a slowdown within a few percent of a 10-minute budget. Default 20.
       */
      windowSeconds?: number;
      /** The fewest recent steps in that median. Default 9. */
      window?: number;
      /** Re-plan only after this many steps of the run (the first are slow while the wasm code tiers up). Default 3. */
      minSteps?: number;
    },
  ) {
    this.endStep = Math.min(p.plannedEndStep ?? p.plannedTotalSteps, p.plannedTotalSteps);
  }

  /**
   * Records a finished step (`stepsDone` optimizer steps done in all, this one taking `seconds`) and returns
   * the new end step when it changed, else undefined.
   */
  onStep(stepsDone: number, seconds: number): number | undefined {
    const window = this.p.window ?? 9;
    const windowSeconds = this.p.windowSeconds ?? 20;
    this.recent.push(seconds);
    this.recentSeconds += seconds;
    while (this.recent.length > window && this.recentSeconds - this.recent[0] >= windowSeconds) this.recentSeconds -= this.recent.shift()!;
    // Not before the median has a full window behind it: the run's first seconds are its noisiest.
    if (this.recentSeconds < windowSeconds || this.recent.length < Math.min(window, this.p.minSteps ?? 3) || stepsDone >= this.endStep) return undefined;
    const sorted = [...this.recent].sort((a, b) => a - b);
    const stepSeconds = sorted[Math.floor(sorted.length / 2)];
    const slowdown = Math.max(1, stepSeconds / this.p.plannedStepSeconds);
    const left = this.p.budgetSeconds - this.p.now();
    // Steps that fit when the run ends after stepsDone + k steps: the largest k with
    // k * stepSeconds + (evaluations still to come + final evaluation) * slowdown <= left.
    const tail = (end: number) => (this.p.evalsAfter(stepsDone, end) * this.p.monitorSeconds + this.p.finalSeconds) * slowdown;
    let k = Math.max(0, Math.floor((left - tail(this.p.plannedTotalSteps)) / stepSeconds));
    // Fewer steps can mean fewer monitor evaluations: grow k while the cheaper tail leaves room for it.
    while (stepsDone + k < this.p.plannedTotalSteps && (k + 1) * stepSeconds + tail(stepsDone + k + 1) <= left) k++;
    const end = Math.max(stepsDone + 1, Math.min(this.p.plannedTotalSteps, stepsDone + k));
    if (end === this.endStep) return undefined;
    this.endStep = end;
    return end;
  }
}

/** Monitor evaluations still to run after `step` steps when the run ends after `endStep` (epochs of `stepsPerEpoch`; every `knnEvery` epochs and after the last). */
export function monitorEvalsAfter(step: number, endStep: number, stepsPerEpoch: number, knnEvery: number): number {
  if (knnEvery <= 0) return 0;
  const doneEpochs = Math.floor(step / stepsPerEpoch);
  const lastEpoch = Math.ceil(endStep / stepsPerEpoch); // a run ended mid-epoch closes that epoch, with its evaluation
  let n = 0;
  for (let e = doneEpochs + 1; e <= lastEpoch; e++) if (e % knnEvery === 0 || e === lastEpoch) n++;
  return n;
}
