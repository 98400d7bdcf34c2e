// `npx tsx bench/workers.ts [--models small,r18w16] [--workers 1,2] [--batch 128] [--steps 8] [--queue 4096] [--simd-fma auto|relaxed|off]`:
// images/s of the library's own `fit` on one thread and on data-parallel worker threads (fit option `workers`,
// src/node/execution/worker-executor.ts), wasm, the bench's recipe (crop-flip, BatchNorm with the library's gradient,
// queue K, InfoNCE τ 0.07). img/s = batch ÷ median step time from the `step` events after 2 warm-up steps.
// Prints a markdown table and the command that made it (--json: the rows as a JSON array of
// { model, workers, batch, imagesPerSecond }).
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import { createMoco, selectBackend } from '../src/index.js';
import { workerThreadExecutor } from '../src/node/index.js';
import { resnet18Cifar, smallConvNet } from '../src/models/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { inputShape, median, type ModelId } from './common.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const models = opt('models', 'small,r18w16').split(',') as ModelId[];
const workerCounts = opt('workers', '1,2').split(',').map(Number);
const batch = Number(opt('batch', '128'));
const steps = Number(opt('steps', '8'));
const queue = Number(opt('queue', '4096'));
const WARMUP = 2;
const PLUGINS = new URL('../plugins/index.ts', import.meta.url).href;

const simdFma = opt('simd-fma', 'auto') as 'auto' | 'relaxed' | 'off';
await selectBackend({ prefer: 'wasm', needsTraining: true, wasmKernels: { simdFma }, log: () => undefined });

async function measure(model: ModelId, workers: number): Promise<{ ips: number; losses: number[] }> {
  const backbone = model === 'small' ? smallConvNet({ seed: 1 }) : resnet18Cifar({ width: 16, seed: 1 });
  const moco = createMoco({
    backbone,
    plugins: builtinPlugins,
    config: {
      seed: 1,
      dictionary: { id: 'queue', size: queue },
      augmentation: { id: 'crop-flip' },
      normalization: { id: 'batchnorm' },
      update: { id: 'momentum', keyEncoderMomentum: 0.999 },
      loss: { id: 'infonce', temperature: 0.07 },
    },
  });
  const shape = inputShape(model, 1).slice(1) as [number, number, number];
  const n = batch * (steps + WARMUP);
  const data = tfd.generator(function* () {
    for (let i = 0; i < n; i++) yield tf.randomUniform(shape, 0, 1, 'float32', i);
  });
  const times: number[] = [];
  const losses: number[] = [];
  moco.on('step').subscribe((e) => {
    times.push(e.batchSize / e.imagesPerSecond);
    losses.push(e.loss);
  });
  await moco.fit(data, { epochs: 1, batchSize: batch, stepsPerEpoch: steps + WARMUP, workers, workerPlugins: [PLUGINS], workerExecutor: workerThreadExecutor });
  moco.dispose();
  backbone.dispose();
  return { ips: batch / median(times.slice(WARMUP)), losses };
}

const rows: string[] = [];
const jsonRows: Array<{ model: ModelId; workers: number; batch: number; imagesPerSecond: number }> = [];
for (const model of models) {
  let base = 0;
  for (const w of workerCounts) {
    const r = await measure(model, w);
    if (w === 1) base = r.ips;
    jsonRows.push({ model, workers: w, batch, imagesPerSecond: r.ips });
    rows.push(`| ${model} | ${w} | ${batch} | ${r.ips.toFixed(1)} | ${base ? (r.ips / base).toFixed(2) + '×' : '—'} | ${r.losses.map((l) => l.toFixed(3)).join(' ')} |`);
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
}
if (argv.includes('--json')) {
  console.log(JSON.stringify(jsonRows, null, 2));
  process.exit(0);
}
console.log(`Command: \`npx tsx bench/workers.ts ${argv.join(' ')}\``);
console.log(`Date: ${new Date().toISOString()} · ${os.cpus()[0]?.model} ×${os.cpus().length} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} · wasm, one thread per worker, K ${queue}\n`);
console.log('| model | workers | batch | img/s | speed-up | losses (each step) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
