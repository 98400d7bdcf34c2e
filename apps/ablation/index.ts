// The ablation runner: `runStudy(name, options)` trains every cell of a study for the same wall-clock budget,
// scores each with kNN beside the encoder at random init, and writes <study>.md, .csv, .svg (and .json).
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendPreference } from '../../src/kernels/select-backend.js';
import type { MocoConfigInput } from '../../src/config/moco-config.js';
import { loadFashionMnist } from '../../src/node/data/fashion-mnist.js';
import { stratifiedSubset, type ImageSet } from '../../src/data/image-set.js';
import { smallConvNet } from '../../src/models/small-convnet.js';
import type { MocoPlugin } from '../../src/registry/moco-plugin.js';
import { writeStudyReport, type StudyFiles } from './ablation-report.js';
import type { StudyReport } from './study-report.js';
import { encoderKnn, type EncoderKnn, type KnnSets } from './knn-score.js';
import { runCell, type BudgetClock, type CellResult } from './run-cell.js';
import { ABLATION_BASE_CONFIG, getStudy, selectCells, type StudyName } from './studies.js';

export { STUDY_NAMES, ABLATION_BASE_CONFIG, ABLATION_BATCH_SIZE, UnknownStudyError, getStudy, isStudyName, selectCells, cellConfig } from './studies.js';
export type { StudyName, StudyCell, StudyDefinition, StudyAxis } from './studies.js';
export { runCell, TAIL_STEPS, tailLength, type BudgetClock, type CellResult, type CellEnvironment, type CellRunOptions, type TimelinePoint, type TimelineSettings } from './run-cell.js';
export { knnScore, encoderKnn, type EncoderKnn, type KnnSets, type KnnSettings, type PreciseBnSettings } from './knn-score.js';
export { recomputeBatchNormStatistics, type PreciseBnOptions } from './precise-bn.js';
export { writeStudyReport, readStudyReport, studyCsv, timelineCsv, studyMarkdown, studySvg, studyVegaLiteSpec, formatDuration, STUDY_CSV_COLUMNS, TIMELINE_CSV_COLUMNS, type StudyFiles } from './ablation-report.js';
export { summarizeCells, baselineKnn, type StudyReport, type StudySettings, type CellSummary } from './study-report.js';
export { comparePaper } from './paper-comparison.js';

/** Study budgets used when none is given, in minutes of training for the whole study. */
export const DEFAULT_BUDGET_MINUTES: Record<StudyName, number> = { mechanisms: 6, momentum: 4, 'shuffle-bn': 4, 'queue-size': 4 };

export interface RunStudyOptions {
  /** Minutes of training for the whole study, divided equally among its runs (cells × seeds). */
  budgetMinutes?: number;
  /**
   * What the budget counts: 'wall' (default) seconds on the clock, or 'cpu' seconds of this process. Use
   * 'cpu' on a machine shared with other work: every cell then gets the same computation, however busy the
   * machine is (and the study takes longer than its budget in wall time).
   */
  clock?: BudgetClock;
  /**
   * What the budget covers: 'training' (default: the training of all runs; building encoders and kNN
   * evaluations come on top) or 'study' (the whole study's wall time: the runner times the random-init
   * evaluation, reserves that much per run for each run's evaluation, and gives training the rest). 'study'
   * needs the wall clock.
   */
  budgetCovers?: 'training' | 'study';
  /** Runs per cell, seeds 0..seeds−1; default 1. */
  seeds?: number;
  /** Output folder; default runs/ablation-<study>-<time>. */
  out?: string;
  /** Progress lines; default none. */
  log?: (message: string) => void;
  /** Only these cells of the study (ids, as in studies.ts); default all. */
  cells?: readonly string[];
  /** 'wasm' (default: the cpu backend is ~20× slower), 'auto', 'cpu', or 'current' to keep the active backend. */
  backend?: BackendPreference | 'current';
  /** Images to pretrain on and to evaluate with; default Fashion-MNIST (loadFashionMnist). */
  data?: { train: ImageSet; test: ImageSet };
  /** The encoder of every cell, fresh, initialised from the seed; default smallConvNet({ width: 16, seed: seed + 1 }). */
  makeEncoder?: (seed: number) => tfl.LayersModel;
  /** A name for the encoder in the report; default 'smallConvNet (width 16)' or 'custom'. */
  encoderName?: string;
  /** The final kNN: stratified subsets (seed 0) of the train and test images; k 200, τ 0.1. */
  evaluation?: { trainPerClass?: number; testPerClass?: number; k?: number; temperature?: number };
  /**
   * The shuffle-bn study's kNN during training: smaller subsets (default 200 memory and 50 query images per
   * class), `points` evaluations (default 6), k neighbours (default 20: a small memory needs a small k).
   */
  timeline?: { trainPerClass?: number; testPerClass?: number; points?: number; k?: number };
  /** The recipe cells override; default ABLATION_BASE_CONFIG. */
  baseConfig?: MocoConfigInput;
  /** The strategies the cells' configs name: pass `builtinPlugins` (from plugins/), plus any of your own. */
  plugins: readonly MocoPlugin[];
  /** The command line that started the study, written at the top of the report. */
  command?: string;
}

export interface StudyOutcome {
  readonly report: StudyReport;
  readonly files: StudyFiles;
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

async function withFresh<T>(make: () => tfl.LayersModel, use: (model: tfl.LayersModel) => Promise<T>): Promise<T> {
  const model = make();
  try {
    return await use(model);
  } finally {
    model.dispose();
  }
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Run one study: every selected cell, for every seed, trains a fresh seeded encoder for
 * budgetMinutes·60 / (cells × seeds) seconds (wall clock, or CPU time with clock 'cpu') and is scored by
 * kNN; the untrained encoder of each seed is the baseline row. Writes the report files into `out` and
 * resolves with the numbers. A name that is not a study is an error listing the studies.
 */
export async function runStudy(name: string, options: RunStudyOptions): Promise<StudyOutcome> {
  const study = getStudy(name);
  const wallStart = performance.now();
  const loadStart = loadavg()[0];
  const startedAt = new Date();
  const log = options.log ?? (() => {});
  const budgetMinutes = options.budgetMinutes ?? DEFAULT_BUDGET_MINUTES[study.name];
  if (!(budgetMinutes > 0) || !Number.isFinite(budgetMinutes)) throw new RangeError(`budgetMinutes must be a positive number, got ${budgetMinutes}`);
  const seeds = positiveInteger(options.seeds ?? 1, 'seeds');
  const clock = options.clock ?? 'wall';
  if (clock !== 'wall' && clock !== 'cpu') throw new RangeError(`clock must be 'wall' or 'cpu', got '${String(clock)}'`);
  const cells = selectCells(study, options.cells);
  const out = resolve(options.out ?? `runs/ablation-${study.name}-${timestamp(startedAt)}`);
  await mkdir(out, { recursive: true });

  const backendPreference = options.backend ?? 'wasm';
  if (backendPreference !== 'current') await selectBackend({ prefer: backendPreference, needsTraining: true, log });
  await tf.ready();
  const backend = tf.getBackend();

  const data = options.data ?? (await loadFashionMnist({ onWarning: log }));
  const ev = { trainPerClass: 1000, testPerClass: 200, k: 200, temperature: 0.1, ...options.evaluation };
  const evaluation: KnnSets = { train: stratifiedSubset(data.train, ev.trainPerClass, 0), test: stratifiedSubset(data.test, ev.testPerClass, 0) };
  const knn = { k: ev.k, temperature: ev.temperature };
  const tl = { trainPerClass: 200, testPerClass: 50, points: 6, k: 20, ...options.timeline };
  const timelineKnn = { k: tl.k, temperature: ev.temperature };
  const timelineSets: KnnSets | undefined = study.timeline
    ? { train: stratifiedSubset(data.train, tl.trainPerClass, 1), test: stratifiedSubset(data.test, tl.testPerClass, 1) }
    : undefined;
  // Encoder seed = run seed + 1: kept so that the recorded studies repeat exactly (it dates from before
  // LayerFactory mapped seed 0, which tfjs reads as "unseeded", to a fixed value; see tfjsSeed).
  const makeEncoder = options.makeEncoder ?? ((seed: number) => smallConvNet({ width: 16, seed: seed + 1 }));
  const encoderName = options.encoderName ?? (options.makeEncoder ? 'custom' : 'smallConvNet (width 16, initialiser seed = run seed + 1)');
  const baseConfig = options.baseConfig ?? ABLATION_BASE_CONFIG;
  const runs = cells.length * seeds;
  const budgetCovers = options.budgetCovers ?? 'training';
  if (budgetCovers !== 'training' && budgetCovers !== 'study') throw new RangeError(`budgetCovers must be 'training' or 'study', got '${String(budgetCovers)}'`);
  if (budgetCovers === 'study' && clock !== 'wall') throw new RangeError(`budgetCovers 'study' counts wall time: use clock 'wall' (--clock wall), or budgetCovers 'training' with the CPU clock`);
  let perRunSeconds = (budgetMinutes * 60) / runs;
  log(
    `ablation ${study.name}: ${cells.length} cells × ${seeds} seed(s), ${budgetMinutes} min ${budgetCovers === 'study' ? 'for the whole study' : `of training in all = ${perRunSeconds.toFixed(1)} ${clock} s per run`}; ` +
      `kNN on ${evaluation.train.count} / ${evaluation.test.count} images; backend ${backend}; out ${out}`,
  );

  const baselines: { seed: number; knn: number; knnRunningBn: number; timeline?: EncoderKnn }[] = [];
  const results: CellResult[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    // Two fresh copies (the same weights: the encoder is seeded), as encoderKnn re-estimates the BN statistics
    // of the model it scores.
    const evalStart = performance.now();
    const baseline = await withFresh(() => makeEncoder(seed), (m) => encoderKnn(m, evaluation, knn, { images: data.train, batches: 4 }));
    const evalSeconds = (performance.now() - evalStart) / 1000;
    const timelineStart = performance.now();
    const monitorBaseline = timelineSets ? await withFresh(() => makeEncoder(seed), (m) => encoderKnn(m, timelineSets, timelineKnn, { images: data.train, batches: 2 })) : undefined;
    const timelineSeconds = (performance.now() - timelineStart) / 1000;
    baselines.push({ seed, ...baseline, ...(monitorBaseline !== undefined ? { timeline: monitorBaseline } : {}) });
    log(`seed ${seed}: random init kNN ${(100 * baseline.knn).toFixed(2)} % (running BN ${(100 * baseline.knnRunningBn).toFixed(2)} %)`);
    if (budgetCovers === 'study' && seed === 0) {
      // Per run: its final evaluation (as long as the baseline's), the timeline's evaluations, building the
      // encoders and the step that crosses the budget (a few seconds); later seeds' baselines; the report.
      const perRunOverhead = 1.1 * evalSeconds + (timelineSets ? tl.points * timelineSeconds : 0) + 5;
      const fixed = (performance.now() - wallStart) / 1000 + (seeds - 1) * (evalSeconds + timelineSeconds) + 5;
      perRunSeconds = (budgetMinutes * 60 - fixed - runs * perRunOverhead) / runs;
      if (!(perRunSeconds >= 1)) {
        const need = (fixed + runs * (perRunOverhead + 10)) / 60;
        throw new RangeError(`budget ${budgetMinutes} min is too small for study ${study.name}: loading and ${runs} evaluations alone take about ${((fixed + runs * perRunOverhead) / 60).toFixed(1)} min; give at least ${Math.ceil(need)} min (--budget), or fewer cells (--cells)`);
      }
      log(`budget for the whole study: ${perRunSeconds.toFixed(1)} wall s of training per run, ${perRunOverhead.toFixed(1)} s per run reserved for evaluation and set-up`);
    }
    for (const cell of cells) {
      log(`[${results.length + 1}/${runs}] ${cell.label} (seed ${seed}): ${cell.summary}`);
      const result = await runCell(
        cell,
        { train: data.train, evaluation, knn, makeEncoder, baseConfig, plugins: options.plugins, log },
        {
          budgetSeconds: perRunSeconds,
          clock,
          seed,
          ...(timelineSets ? { timeline: { ...timelineSets, points: tl.points, knn: timelineKnn, initialKnn: monitorBaseline } } : {}),
        },
      );
      results.push(result);
      log(
        `  ${result.steps} steps in ${result.trainSeconds.toFixed(1)} s (CPU ${result.trainCpuSeconds.toFixed(1)} s, ${result.imagesPerSecond.toFixed(0)} img per ${clock} s), loss ${result.finalLoss.toFixed(3)}, ` +
          `pretext ${(100 * result.finalPretextAccuracy).toFixed(1)} %, kNN ${(100 * result.knn).toFixed(2)} % (cell ${result.wallSeconds.toFixed(0)} s)`,
      );
    }
  }

  const report: StudyReport = {
    study,
    cells,
    results,
    baselines,
    settings: {
      budgetMinutes,
      budgetCovers,
      seeds,
      perRunSeconds,
      clock,
      backend,
      encoder: encoderName,
      data: { train: data.train.name, trainCount: data.train.count, test: data.test.name, testCount: data.test.count },
      evaluation: { trainCount: evaluation.train.count, testCount: evaluation.test.count, trainPerClass: ev.trainPerClass, testPerClass: ev.testPerClass, k: knn.k, temperature: knn.temperature },
      ...(timelineSets ? { timeline: { trainCount: timelineSets.train.count, testCount: timelineSets.test.count, points: tl.points, k: tl.k } } : {}),
      baseConfig,
      ...(options.command ? { command: options.command } : {}),
      startedAt: startedAt.toISOString(),
      wallSeconds: (performance.now() - wallStart) / 1000,
      machine: { cpus: cpus().length, loadStart, loadEnd: loadavg()[0] },
    },
  };
  const files = await writeStudyReport(report, out);
  log(`wrote ${files.markdown}, ${files.csv}, ${files.svg}`);
  return { report, files };
}
