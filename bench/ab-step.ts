// In-process A/B of a wasm kernel option on the library's training step: one process, one model, the
// option switched between two values (registerWasmTrainingKernels) before every step, A B A B …, so a
// drift in the machine's speed (other jobs on the shared cores) hits both arms alike. Reports each
// arm's median step time and the median and range of the per-pair ratios B/A (<1: B is faster).
// Run: npx tsx bench/ab-step.ts [--models small,r18w16] [--option simdFma] [--a off] [--b auto]
//        [--batch 128] [--pairs 10] [--warmup 2] [--queue 4096]
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../src/index.js';
import { registerWasmTrainingKernels } from '../src/kernels/wasm-training-kernels.js';
import type { WasmTrainingKernelsArgs } from '../src/kernels/wasm-kernel-options.js';
import { resnet18Cifar, smallConvNet } from '../src/models/index.js';
import { libraryHarness } from './library-step.js';
import { median, type CaseSpec, type ModelId } from './common.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const models = opt('models', 'small,r18w16').split(',') as ModelId[];
const option = opt('option', 'simdFma') as keyof WasmTrainingKernelsArgs;
const parse = (v: string): unknown => (v === 'true' ? true : v === 'false' ? false : v);
const a = parse(opt('a', 'off'));
const b = parse(opt('b', 'auto'));
const batch = Number(opt('batch', '128'));
const pairs = Number(opt('pairs', '10'));
const warmup = Number(opt('warmup', '2'));
const queue = Number(opt('queue', '4096'));
const command = `npx tsx bench/ab-step.ts ${argv.join(' ')}`.trim();

await selectBackend({ prefer: 'wasm', needsTraining: true, log: () => undefined });
const set = (v: unknown) => registerWasmTrainingKernels({ [option]: v } as WasmTrainingKernelsArgs);

const lines = [
  `Command: \`${command}\``,
  `Date: ${new Date().toISOString()} · ${os.cpus()[0]?.model} ×${os.cpus().length} · node ${process.version} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  '',
  `| model | batch | ${option} A | ${option} B | A ms/step (median) | B ms/step (median) | B/A per pair: median (min–max), pairs |`,
  '|---|---|---|---|---|---|---|',
];
for (const model of models) {
  const backbone: tfl.LayersModel = model === 'small' ? smallConvNet({ seed: 1 }) : resnet18Cifar({ width: model === 'r18w64' ? 64 : 16, seed: 1 });
  const spec: CaseSpec = { harnesses: ['library'], backend: 'wasm', model, batch, warmup, steps: pairs, partSteps: 0, profile: false, queue, groups: 8 };
  const h = await libraryHarness(backbone, spec);
  for (let i = 0; i < warmup; i++) {
    set(i % 2 ? b : a);
    h.step(i);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    // Alternate which arm goes first, so a steady drift within a pair does not favour one arm.
    const order = p % 2 ? [b, a] : [a, b];
    const ms: number[] = [];
    for (const v of order) {
      set(v);
      const t0 = performance.now();
      h.step(warmup + 2 * p + ms.length);
      ms.push(performance.now() - t0);
    }
    const [msA, msB] = p % 2 ? [ms[1], ms[0]] : ms;
    ta.push(msA);
    tb.push(msB);
    ratios.push(msB / msA);
    process.stderr.write(`${model} pair ${p + 1}: A ${msA.toFixed(0)} ms, B ${msB.toFixed(0)} ms, B/A ${(msB / msA).toFixed(3)}\n`);
  }
  h.dispose();
  backbone.dispose();
  lines.push(
    `| ${model} | ${batch} | ${String(a)} | ${String(b)} | ${median(ta).toFixed(0)} | ${median(tb).toFixed(0)} | ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}), ${pairs} |`,
  );
}
set(undefined);
process.stdout.write(lines.join('\n') + '\n');
tf.disposeVariables();
