// `tfjs-moco finetune`: what pretraining buys with few labels. For each labels-per-class count and seed, the
// pretrained encoder is fine-tuned end to end (with a new classifier), the same architecture is trained from
// random init on the same labels with the same budget, and a linear probe is trained on the frozen pretrained
// features of the same labels; the table gives mean ± sd over seeds of the test accuracy.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadModel } from '../../src/checkpoint/model-files.js';
import { stratifiedSubset, type ImageSet } from '../../src/data/index.js';
import { extractFeatures } from '../../src/eval/features.js';
import { fineTune } from '../../src/eval/fine-tune.js';
import { linearProbe } from '../../src/eval/linear-probe.js';
import { useBackend } from './backend.js';
import { CliError } from './cli-error.js';
import { describeSet, loadData } from './data-spec.js';
import type { CliIo } from './progress.js';

export interface FinetuneFlags {
  encoder: string;
  data: string;
  labelsPerClass: string;
  seeds: number;
  steps: number;
  batchSize: number;
  lr: number;
  /** How the classifier starts (fineTune's headInit). */
  headInit: 'random' | 'probe';
  testPerClass: number;
  probe: boolean;
  json?: boolean;
  backend: 'auto' | 'cpu' | 'wasm' | 'tensorflow';
}

/** Mean and sample standard deviation (0 for one value). */
export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}

export function parseCounts(text: string): number[] {
  const counts = text.split(',').map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new CliError(`--labels-per-class: expected whole numbers ≥ 1 separated by commas (e.g. 60,600), got '${text}'`);
  }
  return counts;
}

export interface FinetuneRow {
  labelsPerClass: number;
  labels: number;
  pretrained: number[];
  randomInit: number[];
  linearProbe: number[];
}

export async function finetuneCommand(flags: FinetuneFlags, io: CliIo): Promise<number> {
  const counts = parseCounts(flags.labelsPerClass);
  const dir = resolve(flags.encoder);
  try {
    await stat(join(dir, 'model.json'));
  } catch {
    throw new CliError(`--encoder ${dir}: no model.json there (give the folder tfjs-moco pretrain wrote, or one saved with saveModel)`);
  }
  await useBackend(flags.backend, true, io.err);
  const data = await loadData(flags.data, (m) => io.err(`warning: ${m}`));
  if (!data.test || !data.train.labels) throw new CliError(`--data ${flags.data}: fine-tuning needs labelled images (class sub-folders or label files)`);
  const encoder = await loadModel(dir);
  const log = flags.json ? () => {} : (m: string) => io.err(m);
  try {
    const [, h, w, c] = encoder.inputs[0].shape;
    if (h !== data.train.height || w !== data.train.width || c !== data.train.channels) {
      throw new CliError(`--encoder ${dir} takes ${h}×${w}×${c} images, but --data ${flags.data} has ${data.train.height}×${data.train.width}×${data.train.channels}`);
    }
    const test: ImageSet = flags.testPerClass === 0 ? data.test : stratifiedSubset(data.test, flags.testPerClass, 0);
    io.err(`fine-tuning on ${counts.join(', ')} labelled images per class from ${describeSet(data.train)}; testing on ${describeSet(test)}; ${flags.seeds} seed(s), ${flags.steps} steps each`);
    const rows: FinetuneRow[] = [];
    for (const perClass of counts) {
      const row: FinetuneRow = { labelsPerClass: perClass, labels: 0, pretrained: [], randomInit: [], linearProbe: [] };
      for (let seed = 0; seed < flags.seeds; seed++) {
        const few = stratifiedSubset(data.train, perClass, seed);
        row.labels = few.count;
        const common = { encoder, train: few, test, steps: flags.steps, batchSize: flags.batchSize, learningRate: flags.lr, headInit: flags.headInit, seed, log };
        row.pretrained.push((await fineTune(common)).testAccuracy);
        row.randomInit.push((await fineTune({ ...common, randomInit: true })).testAccuracy);
        if (flags.probe) {
          const trainF = extractFeatures(encoder, few, { normalize: false });
          const testF = extractFeatures(encoder, test, { normalize: false });
          try {
            const r = await linearProbe({ trainFeatures: trainF, trainLabels: few.labels!, testFeatures: testF, testLabels: test.labels!, numClasses: 1 + Math.max(...few.labels!, ...test.labels!), seed });
            row.linearProbe.push(r.testAccuracy);
            log(`linear probe (${few.count} labels, seed ${seed}): test ${(100 * r.testAccuracy).toFixed(2)} %`);
          } finally {
            trainF.dispose();
            testF.dispose();
          }
        }
      }
      rows.push(row);
    }
    if (flags.json) {
      io.out(JSON.stringify({ encoder: dir, data: flags.data, steps: flags.steps, seeds: flags.seeds, testCount: test.count, rows }, null, 2));
    } else {
      const f = (v: number[]) => {
        if (v.length === 0) return 'n/a';
        const { mean, sd } = meanSd(v);
        return `${(100 * mean).toFixed(2)} ± ${(100 * sd).toFixed(2)} %`;
      };
      io.out(`labels/class  labels  fine-tuned, pretrained  fine-tuned, random init  linear probe, pretrained`);
      for (const r of rows) {
        io.out(`${String(r.labelsPerClass).padEnd(13)} ${String(r.labels).padEnd(7)} ${f(r.pretrained).padEnd(23)} ${f(r.randomInit).padEnd(24)} ${f(r.linearProbe)}`);
      }
      for (const r of rows) {
        const gap = meanSd(r.pretrained).mean - meanSd(r.randomInit).mean;
        const spread = Math.max(meanSd(r.pretrained).sd, meanSd(r.randomInit).sd);
        const verdict = gap > spread ? 'beats' : gap > 0 ? 'is ahead of, but within the seed spread of,' : 'does not beat';
        io.out(`${r.labelsPerClass} labels/class: pretraining ${verdict} random init (${gap >= 0 ? '+' : ''}${(100 * gap).toFixed(2)} points, seed sd ${(100 * spread).toFixed(2)})`);
      }
    }
    return 0;
  } finally {
    encoder.dispose();
  }
}
