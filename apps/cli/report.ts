// report.md + report.svg: what a run did and what it is worth. The plots (vega-lite, rendered to SVG in Node):
// the loss over steps, and the kNN monitor's accuracy over epochs beside its baselines. The table: the final
// kNN and linear-probe accuracies of the encoder beside the same architecture at random init and raw pixels.
import type { TopLevelSpec } from 'vega-lite';
import { importOptional } from './optional-package.js';
import type { EncoderEvaluation } from '../../src/eval/baselines.js';
import type { MocoEvent } from '../../src/events/moco-event.js';

type StepEvent = Extract<MocoEvent, { type: 'step' }>;
type EvaluationEvent = Extract<MocoEvent, { type: 'evaluation' }>;

/** Step events deduplicated by step (a resumed run repeats the steps after its last checkpoint: the last wins). */
export function stepsOf(events: readonly MocoEvent[]): StepEvent[] {
  const byStep = new Map<number, StepEvent>();
  for (const e of events) if (e.type === 'step') byStep.set(e.step, e);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** The monitor's kNN evaluations, one per epoch (last wins). */
export function knnCurve(events: readonly MocoEvent[]): EvaluationEvent[] {
  const byEpoch = new Map<number, EvaluationEvent>();
  for (const e of events) if (e.type === 'evaluation' && e.metric === 'knn') byEpoch.set(e.epoch, e);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The vega-lite spec of the two plots. */
export function reportSpec(events: readonly MocoEvent[]): TopLevelSpec {
  // A skipped (non-finite) step's loss is null in events.jsonl: no point on the curve.
  const steps = stepsOf(events)
    .filter((e) => isNumber(e.loss))
    .map((e) => ({ step: e.step, loss: e.loss, series: 'loss' }));
  const knn: { epoch: number; accuracy: number; series: string }[] = [];
  for (const e of knnCurve(events)) {
    knn.push({ epoch: e.epoch + 1, accuracy: e.accuracy, series: 'encoder' });
    if (e.baselines?.rawPixels !== undefined) knn.push({ epoch: e.epoch + 1, accuracy: e.baselines.rawPixels, series: 'raw pixels' });
    if (e.baselines?.randomInit !== undefined) knn.push({ epoch: e.epoch + 1, accuracy: e.baselines.randomInit, series: 'random init' });
  }
  const lossPlot = {
    title: 'InfoNCE loss',
    width: 480,
    height: 200,
    data: { values: steps },
    mark: { type: 'line' as const, strokeWidth: 1 },
    encoding: {
      x: { field: 'step', type: 'quantitative' as const, title: 'step' },
      y: { field: 'loss', type: 'quantitative' as const, title: 'loss', scale: { zero: false } },
    },
  };
  const knnPlot = {
    title: 'kNN accuracy (monitor subset)',
    width: 480,
    height: 200,
    data: { values: knn },
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'accuracy', type: 'quantitative' as const, title: 'accuracy', axis: { format: '.0%' }, scale: { zero: false } },
      color: { field: 'series', type: 'nominal' as const, title: null, scale: { domain: ['encoder', 'random init', 'raw pixels'] } },
      // Same field as color: vega-lite draws one legend showing both.
      strokeDash: { field: 'series', type: 'nominal' as const, scale: { domain: ['encoder', 'random init', 'raw pixels'], range: [[1, 0], [4, 2], [2, 2]] } },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: knn.length > 0 ? [lossPlot, knnPlot] : [lossPlot],
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await importOptional<typeof import('vega')>('vega', 'the report plot (report.svg)', ['vega', 'vega-lite']);
  const { compile } = await importOptional<typeof import('vega-lite')>('vega-lite', 'the report plot (report.svg)', ['vega', 'vega-lite']);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface ReportInput {
  title: string;
  /** Lines of "key: value" describing the run. */
  facts: [string, string][];
  events: readonly MocoEvent[];
  final?: EncoderEvaluation;
  /** The final evaluation's summary line (summaryLine), written under its table. */
  summary?: string;
  /** Why there is no final evaluation, when there is none. */
  finalNote?: string;
}

/** A number read back from events.jsonl: JSON writes NaN and ±Infinity as null. */
const isNumber = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const pct = (v: number | null | undefined) => (isNumber(v) ? `${(100 * v).toFixed(2)} %` : 'n/a');
const num = (v: number | null | undefined, digits: number) => (isNumber(v) ? v.toFixed(digits) : 'n/a');

/** "full split, 60000 / 10000" or "subset, 5000 / 2000": what the numbers are comparable with. */
export function splitLabel(f: Pick<EncoderEvaluation, 'trainCount' | 'testCount'>, full: boolean): string {
  return `${full ? 'full split' : 'subset'}, ${f.trainCount} / ${f.testCount}`;
}

/**
 * One plain sentence: the encoder's accuracies and, per baseline, whether it beats it on kNN and on the linear
 * probe, e.g. "encoder kNN 80.10 % / linear 85.90 % (full split, 60000 / 10000) — beats raw pixels on kNN
 * (79.80 %) but not on linear (85.40 %); beats random init on both (75.20 % / 79.20 %)". A tie is not a win.
 */
export function summaryLine(f: EncoderEvaluation, split: string): string {
  const enc = f.knn.encoder;
  const lin = f.linear?.encoder;
  const head = `encoder kNN ${pct(enc)}${lin !== undefined ? ` / linear ${pct(lin)}` : ''} (${split})`;
  const verdict = (name: string, knn: number | null, linear: number | null | undefined): string | undefined => {
    const k = knn === null ? undefined : enc > knn;
    const l = lin === undefined || linear === null || linear === undefined ? undefined : lin > linear;
    if (k !== undefined && l !== undefined) {
      if (k && l) return `beats ${name} on both (${pct(knn)} / ${pct(linear)})`;
      if (!k && !l) return `does not beat ${name} on either (${pct(knn)} / ${pct(linear)})`;
      return k ? `beats ${name} on kNN (${pct(knn)}) but not on linear (${pct(linear)})` : `beats ${name} on linear (${pct(linear)}) but not on kNN (${pct(knn)})`;
    }
    if (k !== undefined) return `${k ? 'beats' : 'does not beat'} ${name} on kNN (${pct(knn)})`;
    if (l !== undefined) return `${l ? 'beats' : 'does not beat'} ${name} on linear (${pct(linear)})`;
    return undefined;
  };
  const parts = [
    verdict('raw pixels', f.knn.rawPixels, f.linear?.rawPixels),
    verdict('mean-centred pixels', f.knn.rawPixelsCentered, undefined),
    verdict('random init', f.knn.randomInit, f.linear?.randomInit),
  ].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? `${head} — ${parts.join('; ')}` : head;
}

export function reportMarkdown(r: ReportInput): string {
  const lines: string[] = [`# ${r.title}`, ''];
  for (const [k, v] of r.facts) lines.push(`- **${k}**: ${v}`);
  lines.push('', '## Final evaluation', '');
  if (r.final) {
    const f = r.final;
    lines.push(
      `Frozen backbone features; kNN (cosine, weighted votes) and a linear probe trained on ${f.trainCount} images, tested on ${f.testCount} held-out images (${f.numClasses} classes).`,
      '',
      '| features | kNN | linear probe |',
      '|---|---|---|',
      `| **MoCo encoder** | **${pct(f.knn.encoder)}** | **${pct(f.linear?.encoder)}** |`,
      `| same encoder at random init | ${pct(f.knn.randomInit)} | ${pct(f.linear?.randomInit)} |`,
      `| raw pixels | ${pct(f.knn.rawPixels)} | ${pct(f.linear?.rawPixels)} |`,
      `| raw pixels, mean-centred | ${pct(f.knn.rawPixelsCentered)} | (same as raw: the probe standardises) |`,
      '',
    );
    if (r.summary) lines.push(`**Summary**: ${r.summary}.`, '');
  } else {
    lines.push(r.finalNote ?? 'No final evaluation.', '');
  }
  const steps = stepsOf(r.events);
  const curve = knnCurve(r.events);
  lines.push('## Training', '', '![loss and kNN accuracy](report.svg)', '');
  const trained = steps.filter((s) => !s.skipped && isNumber(s.loss));
  if (trained.length > 0) {
    const first = trained[0];
    const last = trained[trained.length - 1];
    const ips = trained.map((s) => s.imagesPerSecond).filter(isNumber).sort((a, b) => a - b);
    // A queue starts as random unit vectors, easy negatives: the loss rises while real keys fill it, so the
    // step where it is first full is the fair starting point of the curve.
    const full = trained.findIndex((s) => s.dictionaryFill >= 1);
    const fullNote = full > 0 && full < trained.length - 1 ? ` (${num(trained[full].loss, 3)} at step ${trained[full].step + 1}, when the dictionary was first full of real keys)` : '';
    const skipped = steps.length - trained.length;
    lines.push(
      `${trained.length} steps${skipped ? ` (and ${skipped} skipped: loss or gradients not finite)` : ''}; loss ${num(first.loss, 3)}${fullNote} → ${num(last.loss, 3)}, pretext accuracy ${pct(last.pretextAccuracy)} at the end; median ${num(ips[ips.length >> 1], 1)} images/s.`,
      '',
    );
  }
  // The run's last word: an error after the last run-ended (a resumed run that later finished shows none).
  const failure = [...r.events].reverse().find((e) => e.type === 'error' || e.type === 'run-ended');
  if (failure && failure.type === 'error') lines.push(`The run stopped with an error${failure.step !== undefined ? ` at step ${failure.step}` : ''}: ${failure.message}`, '');
  if (curve.length > 0) {
    lines.push('| epoch | step | kNN (monitor) | random init | raw pixels |', '|---|---|---|---|---|');
    for (const e of curve) lines.push(`| ${e.epoch + 1} | ${e.step} | ${pct(e.accuracy)} | ${pct(e.baselines?.randomInit)} | ${pct(e.baselines?.rawPixels)} |`);
    lines.push('');
  }
  lines.push('Files: `model.json` + `weights.bin` (the encoder, tfjs layers format), `config.json` (resolved settings), `events.jsonl` (every event), `checkpoint/` (resume with `tfjs-moco resume --out <dir>`).', '');
  return lines.join('\n');
}
