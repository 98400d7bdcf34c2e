// What a study produced, as data: its settings, one result per run, the random-init baselines, and the
// per-cell aggregates over seeds that the report and the comparison with the paper read.
import type { MocoConfigInput } from '../../src/config/moco-config.js';
import type { EncoderKnn } from './knn-score.js';
import type { CellResult } from './run-cell.js';
import type { StudyCell, StudyDefinition } from './studies.js';

export interface StudySettings {
  readonly budgetMinutes: number;
  readonly seeds: number;
  readonly perRunSeconds: number;
  /** What the budget covered: the training only (absent in older reports) or the whole study's wall time. */
  readonly budgetCovers?: 'training' | 'study';
  /** What the budget counted (absent in reports from before the option: wall). */
  readonly clock?: 'wall' | 'cpu';
  readonly backend: string;
  readonly encoder: string;
  readonly data: { train: string; trainCount: number; test: string; testCount: number };
  readonly evaluation: { trainCount: number; testCount: number; trainPerClass: number; testPerClass: number; k: number; temperature: number };
  readonly timeline?: { trainCount: number; testCount: number; points: number; k?: number };
  readonly baseConfig: MocoConfigInput;
  readonly command?: string;
  /** ISO time. */
  readonly startedAt: string;
  /** The whole study: data loading, baselines, every cell's building, training and evaluation. */
  readonly wallSeconds: number;
  /** Logical CPUs, and the 1-minute load average when the study started and ended (others' processes included). */
  readonly machine?: { cpus: number; loadStart: number; loadEnd: number };
}

export interface StudyReport {
  readonly study: StudyDefinition;
  /** The cells that ran, in order. */
  readonly cells: readonly StudyCell[];
  /** One per cell and seed. */
  readonly results: readonly CellResult[];
  /**
   * kNN of the encoder at random init, per seed, after re-estimating its BatchNorm statistics and with its
   * initial ones (and on the timeline sets, when the study has a timeline).
   */
  readonly baselines: readonly { seed: number; knn: number; knnRunningBn: number; timeline?: EncoderKnn }[];
  readonly settings: StudySettings;
}

/** Mean of the finite values (NaN if none). */
export const mean = (xs: readonly number[]) => {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
};

/** Sample standard deviation of the finite values (NaN for fewer than two). */
export const sd = (xs: readonly number[]) => {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (ok.length < 2) return NaN;
  const m = mean(ok);
  return Math.sqrt(ok.reduce((a, b) => a + (b - m) ** 2, 0) / (ok.length - 1));
};

/** Per-cell aggregates over seeds. */
export interface CellSummary {
  readonly cell: StudyCell;
  readonly runs: readonly CellResult[];
  readonly knn: number;
  readonly knnSd: number;
  readonly knnRunningBn: number;
  readonly steps: number;
  readonly imagesPerSecond: number;
  readonly finalLoss: number;
  readonly finalPretextAccuracy: number;
  readonly dictionaryFill: number;
  readonly errors: readonly string[];
}

export function summarizeCells(report: StudyReport): CellSummary[] {
  return report.cells.map((cell) => {
    const runs = report.results.filter((r) => r.cellId === cell.id);
    return {
      cell,
      runs,
      knn: mean(runs.map((r) => r.knn)),
      knnSd: sd(runs.map((r) => r.knn)),
      knnRunningBn: mean(runs.map((r) => r.knnRunningBn)),
      steps: mean(runs.map((r) => r.steps)),
      imagesPerSecond: mean(runs.map((r) => r.imagesPerSecond)),
      finalLoss: mean(runs.map((r) => r.finalLoss)),
      finalPretextAccuracy: mean(runs.map((r) => r.finalPretextAccuracy)),
      dictionaryFill: mean(runs.map((r) => r.dictionaryFill)),
      errors: runs.flatMap((r) => (r.error ? [r.error] : [])),
    };
  });
}

/** The random-init kNN (BatchNorm statistics re-estimated), averaged over seeds. */
export function baselineKnn(report: StudyReport): number {
  return mean(report.baselines.map((b) => b.knn));
}


/** The random-init kNN with its initial BatchNorm statistics, averaged over seeds. */
export function baselineKnnRunningBn(report: StudyReport): number {
  return mean(report.baselines.map((b) => b.knnRunningBn));
}
