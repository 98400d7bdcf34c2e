// One measured case of `npm run bench`, run in its own process by bench/run.ts: one model on one
// backend, with one or more harnesses (library, plain-loop). A fresh process per case means a fresh
// wasm heap (it never shrinks), and an out-of-memory abort ends only its case.
//
// The harnesses' timed steps alternate (A B A B …): on a shared, noisy machine a load change then
// hits both alike, which keeps the library/plain-loop ratio meaningful. Their persistent tensors
// share the process, so peak bytes, wasm heap and RSS are reported per case (see sharedWith).
//
// Argument: the CaseSpec as JSON. Progress goes to stderr; stdout's last line is
// `BENCH_RESULT <CaseResult[] JSON>`.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../src/kernels/index.js';
import { resnet18Cifar, smallConvNet } from '../src/models/index.js';
import {
  cpuMsSince,
  load1,
  median,
  medianParts,
  profileStep,
  ReadSyncCounter,
  HARNESS_ROW,
  wasmHeapBytes,
  type CaseResult,
  type CaseSpec,
  type HarnessId,
  type ModelId,
  type Parts,
} from './common.js';
import { libraryHarness, type Harness } from './library-step.js';
import { plainLoopHarness } from './plain-loop.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const started = performance.now();

function backbone(model: ModelId, name: string): tfl.LayersModel {
  switch (model) {
    case 'small':
      return smallConvNet({ seed: 1, name });
    case 'r18w16':
      return resnet18Cifar({ width: 16, seed: 1, name });
    case 'r18w64':
      return resnet18Cifar({ width: 64, seed: 1, name });
  }
}

async function threadsOf(backend: string): Promise<number> {
  if (backend === 'wasm') {
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as { getThreadsCount?: () => number };
    return wasm.getThreadsCount?.() ?? 1;
  }
  if (backend === 'cpu') return 1;
  return NaN; // tensorflow: libtensorflow's own pool; tfjs-node does not report it
}

interface Running {
  id: HarnessId;
  h: Harness;
  persistentBytes: number;
  tensorsBefore?: number;
  tensorsAfterWarmup?: number;
  leaked: number;
  wall: number[];
  cpu: number[];
  load: number[];
  reads: number;
  loss: number;
  parts: Parts[];
  partTotals: number[];
}

async function main(): Promise<CaseResult[]> {
  const choice = await selectBackend({ prefer: spec.backend, needsTraining: true, wasmKernels: { convKernels: spec.convKernels ?? 'simd', simdFma: spec.simdFma ?? 'auto' } });
  const threads = await threadsOf(choice.name);
  log(`${spec.model} on ${choice.name} (${choice.reason}), b${spec.batch}, harnesses ${spec.harnesses.join(' + ')}`);
  const running: Running[] = [];
  for (const id of spec.harnesses) {
    const bytes0 = tf.memory().numBytes;
    const h =
      id === 'library' || id === 'library-autodiff-bn' || id === 'library-shuffle-bn'
        ? await libraryHarness(backbone(spec.model, 'bench_backbone'), spec, HARNESS_ROW[id].variant)
        : await plainLoopHarness((name) => backbone(spec.model, name), spec, id === 'plain-fastbn' ? 'fastbn' : 'plain');
    running.push({ id, h, persistentBytes: tf.memory().numBytes - bytes0, leaked: 0, wall: [], cpu: [], load: [], reads: 0, loss: NaN, parts: [], partTotals: [] });
  }
  const counter = new ReadSyncCounter().install();
  /** One step of one harness, with its tensor balance and host reads. */
  const step = (r: Running, i: number) => {
    const before = tf.memory().numTensors;
    counter.count = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    r.loss = r.h.step(i);
    const wall = performance.now() - t0;
    const cpu = cpuMsSince(c0);
    r.leaked += tf.memory().numTensors - before;
    return { wall, cpu, reads: counter.count };
  };
  for (const r of running) {
    r.tensorsBefore = tf.memory().numTensors;
    for (let i = 0; i < spec.warmup; i++) {
      const { wall } = step(r, i);
      log(`  ${r.id} warm-up ${i + 1}/${spec.warmup}: ${wall.toFixed(0)} ms (loss ${r.loss.toFixed(3)})`);
    }
    r.tensorsAfterWarmup = r.tensorsBefore + r.leaked;
  }
  for (let i = 0; i < spec.steps; i++) {
    for (const r of running) {
      const { wall, cpu, reads } = step(r, spec.warmup + i);
      r.wall.push(wall);
      r.cpu.push(cpu);
      r.reads += reads;
      r.load.push(load1());
      log(`  ${r.id} step ${i + 1}/${spec.steps}: ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms cpu, load ${r.load.at(-1)}`);
    }
  }
  counter.uninstall();
  for (let i = 0; i < spec.partSteps; i++) {
    for (const r of running) {
      const t0 = performance.now();
      const { parts } = r.h.stepWithParts(spec.warmup + spec.steps + i);
      r.partTotals.push(performance.now() - t0);
      r.parts.push(parts);
      log(`  ${r.id} parts ${i + 1}/${spec.partSteps}: ${Object.entries(parts).map(([k, v]) => `${k} ${v!.toFixed(0)}`).join(', ')}`);
    }
  }
  const results: CaseResult[] = [];
  for (const r of running) {
    let prof: Awaited<ReturnType<typeof profileStep>> | undefined;
    if (spec.profile) {
      prof = await profileStep(() => {
        r.h.step(spec.warmup + spec.steps + spec.partSteps);
      });
      log(`  ${r.id} profiled step: ${prof.kernels} kernels, step peak ${(prof.stepPeakBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const headFwdBwdMs = r.id.startsWith('library') && spec.partSteps > 0 ? r.h.headFwdBwdMs() : undefined;
    const stepMs = median(r.wall);
    const cpuMs = median(r.cpu);
    results.push({
      spec,
      harness: r.id,
      ok: true,
      backendInfo: `${choice.name}: ${choice.reason}`,
      threads,
      stepMs,
      stepMsAll: r.wall.map((t) => Math.round(t)),
      cpuMs,
      imagesPerSecond: (spec.batch * 1000) / stepMs,
      imagesPerCpuSecond: (spec.batch * 1000) / cpuMs,
      partsMs: r.parts.length ? medianParts(r.parts) : undefined,
      partsTotalMs: r.partTotals.length ? median(r.partTotals) : undefined,
      headFwdBwdMs,
      numTensorsBefore: r.tensorsBefore,
      numTensorsAfterWarmup: r.tensorsAfterWarmup,
      numTensorsAfter: r.tensorsBefore! + r.leaked,
      persistentBytes: r.persistentBytes,
      sharedWith: running.filter((o) => o !== r).map((o) => o.id),
      peakBytes: prof?.peakBytes,
      stepPeakBytes: prof?.stepPeakBytes,
      kernelsPerStep: prof?.kernels,
      topKernels: prof?.top,
      readSyncsPerStep: spec.steps ? r.reads / spec.steps : undefined,
      load1: median(r.load),
      loss: r.loss,
    });
  }
  const heap = wasmHeapBytes();
  const rss = process.resourceUsage().maxRSS / 1024;
  const seconds = (performance.now() - started) / 1000;
  for (const res of results) Object.assign(res, { wasmHeapBytes: heap, maxRssMB: rss, seconds });
  for (const r of running) r.h.dispose();
  return results;
}

let results: CaseResult[];
try {
  results = await main();
} catch (err) {
  if (process.env.BENCH_DEBUG) console.error(err);
  const message = err instanceof Error ? err.message : String(err);
  results = spec.harnesses.map((harness) => ({ spec, harness, ok: false, error: message.split('\n').slice(0, 3).join(' '), load1: load1() }));
}
process.stdout.write(`BENCH_RESULT ${JSON.stringify(results)}\n`);
