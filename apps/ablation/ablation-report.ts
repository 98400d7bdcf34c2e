// A study's results as files: <study>.md (setup, the table beside the random-init baseline, the comparison
// with the paper), <study>.csv (one row per run and per baseline), <study>.svg (vega-lite, rendered in Node),
// <study>.json (everything, per-step curves included) and, for a study with a timeline, <study>-timeline.csv.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { importOptional } from '../cli/optional-package.js';
import { comparePaper } from './paper-comparison.js';
import { baselineKnn, baselineKnnRunningBn, mean, sd, summarizeCells, type StudyReport } from './study-report.js';

export interface StudyFiles {
  readonly markdown: string;
  readonly csv: string;
  readonly svg: string;
  readonly json: string;
  readonly timelineCsv?: string;
}

const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const pct = (x: number, digits = 2) => (Number.isFinite(x) ? (100 * x).toFixed(digits) : '–');

/** Minutes and seconds, e.g. '5 min 12 s'. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function csvField(value: unknown): string {
  const text = value === undefined || value === null ? '' : typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLines(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n') + '\n';
}

export const STUDY_CSV_COLUMNS = [
  'study',
  'kind',
  'cell',
  'label',
  'series',
  'x',
  'negatives',
  'batch_size',
  'seed',
  'budget_seconds',
  'steps',
  'images',
  'train_seconds',
  'train_cpu_seconds',
  'images_per_second',
  'final_loss',
  'final_pretext_accuracy',
  'knn_accuracy',
  'knn_running_bn_accuracy',
  'random_init_knn_accuracy',
  'random_init_knn_running_bn_accuracy',
  'dictionary_fill',
  'overrides',
  'error',
] as const;

/** One row per run (kind 'cell') and one per seed's random-init baseline (kind 'baseline'). */
export function studyCsv(report: StudyReport): string {
  const cellById = new Map(report.cells.map((c) => [c.id, c]));
  const baselineOf = (seed: number) => report.baselines.find((b) => b.seed === seed);
  const rows: unknown[][] = report.baselines.map((b) => [
    report.study.name, 'baseline', 'random-init', 'random init', 'random init', '', '', '', b.seed, 0, 0, 0, 0, 0, '', '', '', b.knn, b.knnRunningBn, b.knn, b.knnRunningBn, '', '', '',
  ]);
  for (const r of report.results) {
    const c = cellById.get(r.cellId)!;
    rows.push([
      report.study.name,
      'cell',
      c.id,
      c.label,
      c.series,
      c.x,
      c.negatives,
      c.batchSize,
      r.seed,
      r.budgetSeconds,
      r.steps,
      r.images,
      r.trainSeconds,
      r.trainCpuSeconds,
      r.imagesPerSecond,
      r.finalLoss,
      r.finalPretextAccuracy,
      r.knn,
      r.knnRunningBn,
      baselineOf(r.seed)?.knn,
      baselineOf(r.seed)?.knnRunningBn,
      r.dictionaryFill,
      JSON.stringify(c.overrides),
      r.error ?? '',
    ]);
  }
  return csvLines(STUDY_CSV_COLUMNS, rows);
}

export const TIMELINE_CSV_COLUMNS = ['cell', 'seed', 'step', 'train_seconds', 'loss', 'pretext_accuracy', 'knn_accuracy', 'knn_running_bn_accuracy'] as const;

/** The timeline of every run: one row per kNN evaluation during training. */
export function timelineCsv(report: StudyReport): string {
  const rows: unknown[][] = [];
  for (const r of report.results) {
    for (const p of r.timeline) rows.push([r.cellId, r.seed, p.step, p.trainSeconds, p.loss, p.pretextAccuracy, p.knn, p.knnRunningBn]);
  }
  return csvLines(TIMELINE_CSV_COLUMNS, rows);
}

function setupLines(report: StudyReport): string[] {
  const s = report.settings;
  const cpuClock = s.clock === 'cpu';
  const e = s.evaluation;
  const runs = report.results.length;
  const varied = new Set(report.cells.map((c) => c.batchSize));
  const batch = varied.size === 1 ? `batch ${[...varied][0]} in every cell` : `batch 256 except where the study varies it (${[...varied].join(', ')})`;
  const lines = [
    `- **Data:** pretraining on \`${s.data.train}\` (${s.data.trainCount.toLocaleString('en-US')} images, labels unused). ` +
      `kNN memory: ${e.trainCount.toLocaleString('en-US')} of those images (${e.trainPerClass} per class), queries: ${e.testCount.toLocaleString('en-US')} images of \`${s.data.test}\` (${e.testPerClass} per class); ` +
      `fixed stratified subsets (seed 0), the same for every cell.`,
    `- **Evaluation:** weighted kNN (k ${e.k}, τ ${e.temperature}, cosine similarity; Wu et al. 2018) on the backbone's pooled features, in inference mode, on the ${s.backend} backend. ` +
      '**kNN** is measured after re-estimating every BatchNorm layer\'s running mean and variance with the final weights (the average over 4 batches of 256 training images in training mode, "precise BN"); ' +
      '**kNN, running BN** uses the statistics the run left. A run of a few dozen steps leaves running statistics that are still largely their initial values ' +
      '(BN momentum 0.9: after 10 steps 35 % of each is still the initial 0 or 1), so that column measures how many steps a cell made as much as what it learned; ' +
      'the re-estimated column compares the weights alone. The random-init row gets the same treatment.',
    `- **Encoder:** ${s.encoder}, initialised from the seed (seeds ${s.seeds === 1 ? '0' : `0..${s.seeds - 1}`}): every cell of a seed starts from the same weights, and the untrained encoder is the baseline row.`,
    (s.budgetCovers === 'study'
      ? `- **Budget:** the study's ${s.budgetMinutes} min of wall time in all; after reserving, per run, as much time as the random-init evaluation took (plus set-up), the rest went to training, divided equally among its ${runs} runs (${report.cells.length} cells × ${s.seeds} seed${s.seeds === 1 ? '' : 's'}): `
      : `- **Budget:** the study's ${s.budgetMinutes} min of training divided equally among its ${runs} runs (${report.cells.length} cells × ${s.seeds} seed${s.seeds === 1 ? '' : 's'}): `) +
      `**${s.perRunSeconds.toFixed(1)} s of training per run**${cpuClock ? ' on the CPU clock' : ''}, stopped with \`moco.stop()\` after the step that crosses it. ` +
      (cpuClock
        ? 'The budget counts the CPU seconds this process spent training (user + system), not the wall clock: the machine was shared with other work, and the CPU clock gives every cell the same computation however busy it was (so the study took longer than its budget). '
        : '') +
      (s.budgetCovers === 'study' ? '' : `Building the encoders, kNN evaluations${s.timeline ? ' (including the pauses for the timeline)' : ''} and writing files are not counted. `) +
      `A cell that runs slower makes fewer steps: the comparison is at equal ${cpuClock ? 'computation time' : 'wall clock'}, not at equal steps.`,
    `- **Recipe:** ${batch}; every cell is the base recipe below with the overrides in its row. Learning rate constant (a budget has no known end to decay towards).`,
    `- **Final loss / pretext accuracy:** means over the last 10 steps of the run, or its second half when it made fewer than 20 (the first steps, against a queue of random vectors, are trivially easy). Pretext accuracy is the (K+1)-way top-1 of the contrastive task, so it is not comparable across different K.`,
    `- **Noise:** one kNN number on ${e.testCount.toLocaleString('en-US')} queries has a binomial standard error of about ${pct(Math.sqrt(0.8 * 0.2 / e.testCount), 1)} points at 80 %${s.seeds === 1 ? '; a single seed per cell adds run-to-run variation on top' : ''}.`,
  ];
  const cpu = report.results.reduce((a, r) => a + r.trainCpuSeconds, 0);
  const wall = report.results.reduce((a, r) => a + r.trainSeconds, 0);
  if (s.machine && wall > 0) {
    lines.push(
      `- **Machine:** ${s.machine.cpus} logical CPUs; 1-minute load average ${s.machine.loadStart.toFixed(1)} at the start, ${s.machine.loadEnd.toFixed(1)} at the end. ` +
        `While training, this process used ${(cpu / wall).toFixed(2)} CPU-seconds per second (the wasm backend computes on one thread; ` +
        `${cpu / wall < 0.85 ? 'well below 1: other processes were competing for the cores, so every number of steps and images/s here is lower than on an idle machine, and the competition varied between cells' : 'about one core, as on an idle machine'}). ` +
        (s.clock === 'cpu'
          ? 'The CPU clock evens out the share of the machine each cell got, not entirely its speed: on a busy machine each CPU second also does less work (shared caches and memory bandwidth), so steps per cell still vary with the load. '
          : '') +
        'Per-run CPU seconds are in the CSV.',
    );
  }
  if (s.timeline) {
    lines.push(
      `- **Timeline:** ${s.timeline.points} kNN evaluations per run at evenly spaced moments of its budget (the last after it), on small fixed subsets ` +
        `(${s.timeline.trainCount} memory / ${s.timeline.testCount} query images, seed 1, k ${s.timeline.k ?? s.evaluation.k}), with the BatchNorm statistics re-estimated on 2 batches; training pauses for them. Step 0 is the encoder at random init.`,
    );
  }
  return lines;
}

/** The markdown report. */
export function studyMarkdown(report: StudyReport): string {
  const s = report.settings;
  const base = baselineKnn(report);
  const summaries = summarizeCells(report);
  const multi = s.seeds > 1;
  const lines: string[] = [`# Ablation: ${report.study.title}`, ''];
  if (s.command) lines.push(`Command: \`${s.command}\``, '');
  const training = report.results.reduce((a, r) => a + r.trainSeconds, 0);
  lines.push(
    `Wall time: ${formatDuration(s.wallSeconds)} (training ${formatDuration(training)}; the rest is data loading, building encoders and kNN evaluation). ` +
      `Started ${s.startedAt}, backend ${s.backend}${s.clock === 'cpu' ? `, budget on the CPU clock (${formatDuration(report.results.reduce((a, r) => a + r.trainCpuSeconds, 0))} of training CPU time)` : ''}.`,
    '',
    `**Question.** ${report.study.question}`,
    '',
    '## Setup',
    '',
    ...setupLines(report),
    '',
    'Base recipe (createMoco config; each cell overrides part of it):',
    '',
    '```json',
    JSON.stringify(s.baseConfig),
    '```',
    '',
    '## Results',
    '',
    `| cell | config | steps | images/s${s.clock === 'cpu' ? ' (CPU)' : ''} | final loss | pretext acc (%) | kNN (%)${multi ? ' mean ± sd' : ''} | Δ vs random init | kNN, running BN (%) |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    `| random init (baseline) | the same encoder, untrained | 0 | – | – | – | ${pct(base)}${multi ? ` ± ${pct(sd(report.baselines.map((b) => b.knn)))}` : ''} | – | ${pct(baselineKnnRunningBn(report))} |`,
  );
  for (const c of summaries) {
    const knn = c.errors.length === c.runs.length ? `failed: ${c.errors[0]}` : `${pct(c.knn)}${multi ? ` ± ${pct(c.knnSd)}` : ''}`;
    const delta = Number.isFinite(c.knn) ? `${c.knn >= base ? '+' : ''}${pct(c.knn - base)}` : '–';
    lines.push(
      `| ${c.cell.label} | ${c.cell.summary} | ${num(c.steps, multi ? 1 : 0)} | ${num(c.imagesPerSecond, 0)} | ${num(c.finalLoss, 3)} | ${pct(c.finalPretextAccuracy, 1)} | ${knn} | ${delta} | ${pct(c.knnRunningBn)} |`,
    );
  }
  const fills = summaries.filter((c) => Number.isFinite(c.dictionaryFill) && c.dictionaryFill < 0.999);
  if (fills.length > 0) {
    lines.push(
      '',
      `Dictionary fill at the end (share of entries holding real keys, queue slots or memory-bank slots written; the rest are the random unit vectors they start as): ${fills.map((c) => `${c.cell.label} ${pct(c.dictionaryFill, 0)} %`).join(', ')}.`,
    );
  }
  const warnings = [...new Set(report.results.flatMap((r) => r.warnings))];
  if (warnings.length > 0) lines.push('', `Warnings from the runs: ${warnings.map((w) => `"${w}"`).join('; ')}.`);
  if (report.study.timeline) {
    lines.push('', '### Over time', '', '| cell | seed | step | training s | mean loss | mean pretext acc (%) | kNN (%), small subset | kNN, running BN (%) |', '|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of report.results) {
      for (const p of r.timeline) {
        lines.push(`| ${r.label} | ${r.seed} | ${p.step} | ${num(p.trainSeconds, 1)} | ${num(p.loss, 3)} | ${pct(p.pretextAccuracy, 1)} | ${pct(p.knn)} | ${pct(p.knnRunningBn)} |`);
      }
    }
    lines.push('', 'Loss and pretext accuracy: means over the steps since the previous row.');
  }
  lines.push('', '## Against the paper', '', `**The paper.** ${report.study.paper}`, '');
  for (const paragraph of comparePaper(report)) lines.push(paragraph, '');
  lines.push(`![${report.study.name}](${report.study.name}.svg)`, '');
  return lines.join('\n');
}

type Row = Record<string, string | number | null>;

/** Rows for the plots: one per run, plus the baseline. */
function plotRows(report: StudyReport): Row[] {
  const cellById = new Map(report.cells.map((c) => [c.id, c]));
  return report.results.map((r) => {
    const c = cellById.get(r.cellId)!;
    return {
      cell: c.label,
      series: c.series,
      x: c.x,
      seed: r.seed,
      knn: Number.isFinite(r.knn) ? 100 * r.knn : null,
      steps: r.steps,
      loss: Number.isFinite(r.finalLoss) ? r.finalLoss : null,
      pretext: Number.isFinite(r.finalPretextAccuracy) ? 100 * r.finalPretextAccuracy : null,
    };
  });
}

/** Rolling mean of the last `window` values. */
function smooth(xs: readonly number[], window: number): number[] {
  return xs.map((_, i) => mean(xs.slice(Math.max(0, i - window + 1), i + 1)));
}

/** The vega-lite spec of a study's plot. */
export function studyVegaLiteSpec(report: StudyReport): TopLevelSpec {
  const base = 100 * baselineKnn(report);
  const rows = plotRows(report);
  const height = 220;
  const width = 300;
  const rule = (value: number, label: string) => ({
    data: { values: [{ y: value, label }] },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
    ],
  });
  const s = report.settings;
  const subtitle = [s.command ? `$ ${s.command}` : undefined, `wall time ${formatDuration(s.wallSeconds)}, ${s.perRunSeconds.toFixed(1)} ${s.clock === 'cpu' ? 'CPU ' : ''}s of training per run, ${s.backend}`].filter((x): x is string => !!x);
  const header = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: { text: report.study.title, subtitle }, config: { font: 'sans-serif' } };

  if (report.study.timeline) {
    const steps: Row[] = [];
    for (const r of report.results) {
      const acc = smooth(r.pretextAccuracies, 5);
      acc.forEach((a, i) => steps.push({ series: r.label, seed: r.seed, step: i + 1, pretext: 100 * a }));
    }
    const points: Row[] = report.results.flatMap((r) => r.timeline.map((p) => ({ series: r.label, seed: r.seed, step: p.step, knn: 100 * p.knn })));
    const color = { field: 'series', type: 'nominal', title: 'normalization', legend: { labelLimit: 240 } };
    return {
      ...header,
      hconcat: [
        {
          width,
          height,
          title: 'pretext accuracy (rolling mean of 5 steps)',
          data: { values: steps },
          mark: { type: 'line' },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'pretext', type: 'quantitative', aggregate: 'mean', title: 'pretext accuracy (%)' },
            color,
          },
        },
        {
          width,
          height,
          title: 'kNN accuracy during training (small subset)',
          data: { values: points },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'knn', type: 'quantitative', aggregate: 'mean', scale: { zero: false }, title: 'kNN accuracy (%)' },
            color,
          },
        },
      ],
    } as TopLevelSpec;
  }

  const log = report.study.axis.scale === 'log';
  const x = log
    ? { field: 'x', type: 'quantitative', scale: { type: 'log', base: 2 }, title: report.study.axis.title, axis: { values: [...new Set(report.cells.map((c) => c.x as number))] } }
    : { field: 'x', type: 'ordinal', title: report.study.axis.title, sort: report.cells.map((c) => c.x) };
  const several = new Set(report.cells.map((c) => c.series)).size > 1;
  const color = several ? { field: 'series', type: 'nominal', title: 'mechanism', legend: { labelLimit: 240 } } : { value: '#4c78a8' };
  const knnPanel = {
    width,
    height,
    title: `kNN accuracy (%), random init dashed`,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'knn', type: 'quantitative', aggregate: 'mean', scale: { zero: false }, title: 'kNN accuracy (%)' }, color },
      },
      rule(base, `random init ${base.toFixed(2)}`),
    ],
  };
  const second =
    report.study.name === 'momentum'
      ? {
          width,
          height,
          title: `final loss (ln(K+1) dashed: chance)`,
          layer: [
            {
              data: { values: rows },
              mark: { type: 'line', point: true },
              encoding: { x, y: { field: 'loss', type: 'quantitative', aggregate: 'mean', title: 'final loss' }, color },
            },
            rule(Math.log(report.cells[0].negatives + 1), `ln(${report.cells[0].negatives + 1})`),
          ],
        }
      : {
          width,
          height,
          title: `steps done in the same ${s.clock === 'cpu' ? 'CPU time' : 'wall-clock time'}`,
          data: { values: rows },
          mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'steps', type: 'quantitative', aggregate: 'mean', title: 'optimizer steps' }, color },
        };
  return { ...header, hconcat: [knnPanel, second] } as TopLevelSpec;
}

/** The plot as SVG text. */
export async function studySvg(report: StudyReport): Promise<string> {
  const vega = await importOptional<typeof import('vega')>('vega', 'the study plot', ['vega', 'vega-lite']);
  const { compile } = await importOptional<typeof import('vega-lite')>('vega-lite', 'the study plot', ['vega', 'vega-lite']);
  const view = new vega.View(vega.parse(compile(studyVegaLiteSpec(report)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Write the study's files into `dir` (which must exist); resolves with their paths. */
export async function writeStudyReport(report: StudyReport, dir: string): Promise<StudyFiles> {
  const name = report.study.name;
  const files: StudyFiles = {
    markdown: join(dir, `${name}.md`),
    csv: join(dir, `${name}.csv`),
    svg: join(dir, `${name}.svg`),
    json: join(dir, `${name}.json`),
    ...(report.study.timeline ? { timelineCsv: join(dir, `${name}-timeline.csv`) } : {}),
  };
  await writeFile(files.csv, studyCsv(report));
  if (files.timelineCsv) await writeFile(files.timelineCsv, timelineCsv(report));
  await writeFile(files.json, JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  await writeFile(files.svg, await studySvg(report));
  await writeFile(files.markdown, studyMarkdown(report));
  return files;
}

/** A report as `writeStudyReport` saved it in <study>.json (numbers that were NaN come back as NaN). */
export async function readStudyReport(jsonPath: string): Promise<StudyReport> {
  return JSON.parse(await readFile(jsonPath, 'utf8'), (_k, v) => (v === null ? NaN : v)) as StudyReport;
}
