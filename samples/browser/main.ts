// The browser sample: MoCo pretraining in the page on WebGL (falling back to wasm, then cpu), a live chart
// of loss and pretext accuracy fed by the trainer's events, and a kNN read-out at the end.
// URL parameters: steps (default 24), batch (images per step, default 32), backend (auto | webgl | wasm | cpu; default auto), check (steps to
// repeat on the cpu backend from the same seed and compare losses with; default 0 = no comparison).
// The outcome is also left in `window.mocoSample` for the browser test.
import * as tf from '@tensorflow/tfjs-core';
import { LiveChart } from './live-chart.js';
import { useBrowserBackend, type PageBackend } from './page-backend.js';
import { pretrainToy } from './pretrain-toy.js';
import type { SampleState } from './sample-state.js';

declare global {
  interface Window {
    mocoSample: SampleState;
  }
}

const params = new URLSearchParams(location.search);
const steps = Number(params.get('steps') ?? 24);
const batchSize = Number(params.get('batch') ?? 32);
const prefer = (params.get('backend') ?? 'auto') as PageBackend | 'auto';
const checkSteps = Number(params.get('check') ?? 0);
const state: SampleState = { status: 'running', steps: [] };
window.mocoSample = state;

const statusLine = document.getElementById('status')!;
const readout = document.getElementById('readout')!;
const say = (line: string) => {
  statusLine.textContent = line;
};

async function compareWithCpu(backend: PageBackend): Promise<SampleState['check']> {
  say(`checking ${checkSteps} steps on cpu against ${backend}…`);
  await tf.setBackend('cpu');
  const cpu = (await pretrainToy({ steps: checkSteps, batchSize, evaluate: false })).steps.map((e) => e.loss);
  await tf.setBackend(backend);
  const other = (await pretrainToy({ steps: checkSteps, batchSize, evaluate: false })).steps.map((e) => e.loss);
  const maxAbsDiff = Math.max(...cpu.map((l, i) => Math.abs(l - other[i])));
  return { cpu, backend: other, maxAbsDiff };
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await useBrowserBackend(prefer);
  state.backend = backend.name;
  state.renderer = backend.detail;
  document.getElementById('backend')!.textContent = `${backend.name} — ${backend.detail}`;
  if (checkSteps > 0) state.check = await compareWithCpu(backend.name);
  const chart = new LiveChart(document.getElementById('chart')!, { steps });
  let last = performance.now();
  say(`training ${steps} steps on ${backend.name} (the first one compiles the shaders)…`);
  const result = await pretrainToy({
    steps,
    batchSize,
    onStep: (e, numTensors) => {
      const now = performance.now();
      state.steps.push({ step: e.step, loss: e.loss, pretextAccuracy: e.pretextAccuracy, numTensors, ms: now - last });
      last = now;
      chart.add(e.loss, e.pretextAccuracy);
      say(`step ${e.step + 1}/${steps}: loss ${e.loss.toFixed(3)}, pretext accuracy ${(100 * e.pretextAccuracy).toFixed(0)} %`);
    },
  });
  const knn = result.evaluation!.knn;
  state.knn = { encoder: knn.encoder, randomInit: knn.randomInit, rawPixels: knn.rawPixels };
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);
  readout.textContent = `kNN accuracy on held-out toy shapes: encoder ${pct(knn.encoder)}, random init ${pct(knn.randomInit)}, raw pixels ${pct(knn.rawPixels)}`;
  state.seconds = (performance.now() - started) / 1000;
  say(`done: ${result.steps.length} steps in ${result.seconds.toFixed(1)} s on ${backend.name}`);
  state.status = 'done';
}

main().catch((err: unknown) => {
  state.status = 'error';
  state.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  say(`error: ${state.error}`);
});
