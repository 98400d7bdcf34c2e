// A tiny ablation environment for tests on the cpu backend: synthetic shapes (16×16, four classes), the tiny
// test backbone, a small projection head. Study grids, budgets and the runner are the real ones.
import { mergeOverPreset, registerCpuTrainingKernels, type MocoConfigInput } from '../../../src/index.js';
import { ABLATION_BASE_CONFIG, type RunStudyOptions } from '../../../apps/ablation/index.js';
import { builtinPlugins } from '../../../plugins/index.js';
import { syntheticShapes } from '../../helpers/synthetic-shapes.js';
import { useCpu } from '../../helpers/tf.js';
import { tinyBackbone } from '../../helpers/tiny.js';

await useCpu();
registerCpuTrainingKernels();

/** The study recipe with a 16-d head: the queue's [N, K] similarities stay cheap at K 4096. */
export const TINY_BASE: MocoConfigInput = mergeOverPreset(ABLATION_BASE_CONFIG as Record<string, unknown>, { head: { dim: 16, hidden: 32 } }) as MocoConfigInput;

export const tinyData = { train: syntheticShapes(32, 16, 1), test: syntheticShapes(16, 16, 2) };

export const tinyEncoder = (seed: number) => tinyBackbone(16, 1, 4, 'tiny', seed + 1);

/** runStudy options for a study that runs in seconds: inject data, encoder, recipe; small evaluation sets. */
export function tinyStudyOptions(out: string, budgetMinutes: number): RunStudyOptions {
  return {
    budgetMinutes,
    out,
    plugins: builtinPlugins,
    backend: 'current',
    data: tinyData,
    makeEncoder: tinyEncoder,
    encoderName: 'tiny test backbone',
    baseConfig: TINY_BASE,
    evaluation: { trainPerClass: 32, testPerClass: 16, k: 20 },
    timeline: { trainPerClass: 16, testPerClass: 8, points: 2 },
  };
}

/** A minimal RFC 4180 CSV parser (quoted fields, doubled quotes, commas and newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      if (field !== '') throw new Error(`CSV: quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
