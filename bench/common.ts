// Shared pieces of `npm run bench`: the case/row types exchanged between bench/run.ts (the parent)
// and bench/case.ts (one child process per measured case), step timing, and small statistics.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export type ModelId = 'small' | 'r18w16' | 'r18w64';
export type BackendId = 'cpu' | 'wasm' | 'tensorflow';
/**
 * What a case process runs. library: createMoco + trainStep, normalization 'batchnorm' (its default
 * hand-written gradient: GroupBatchNormalization with one group); library-autodiff-bn: the same with
 * `gradient: 'autodiff'` (the model's stock tfjs-layers BatchNormalization); library-shuffle-bn:
 * normalization 'shuffle-bn' (groups --groups); plain-loop: the hand-written loop (bench/plain-loop.ts)
 * with stock BatchNormalization; plain-fastbn: the plain loop with the library's one-group
 * GroupBatchNormalization in place of it (bench/fast-batchnorm.ts).
 */
export type HarnessId = 'library' | 'library-autodiff-bn' | 'library-shuffle-bn' | 'plain-loop' | 'plain-fastbn';
export const HARNESS_IDS: readonly HarnessId[] = ['library', 'library-autodiff-bn', 'library-shuffle-bn', 'plain-loop', 'plain-fastbn'];
/**
 * The row's variant, the BatchNorm flavour: batchnorm = stock tfjs-layers BN (tfjs autodiff); fast-bn = the
 * library's GroupBatchNormalization, one group, hand-written gradient; shuffle-bn = 8 groups + key shuffle.
 */
export type Variant = 'batchnorm' | 'fast-bn' | 'shuffle-bn';
export const HARNESS_ROW: Record<HarnessId, { harness: 'library' | 'plain-loop'; variant: Variant }> = {
  library: { harness: 'library', variant: 'fast-bn' },
  'library-autodiff-bn': { harness: 'library', variant: 'batchnorm' },
  'library-shuffle-bn': { harness: 'library', variant: 'shuffle-bn' },
  'plain-loop': { harness: 'plain-loop', variant: 'batchnorm' },
  'plain-fastbn': { harness: 'plain-loop', variant: 'fast-bn' },
};

export const MODELS: readonly ModelId[] = ['small', 'r18w16', 'r18w64'];
export const MODEL_LABELS: Record<ModelId, string> = {
  small: 'smallConvNet 28×28×1',
  r18w16: 'ResNet-18 w16 32×32×3',
  r18w64: 'ResNet-18 w64 32×32×3',
};

/** What one child process measures. */
export interface CaseSpec {
  /** Harnesses measured in this process; their timed steps alternate (A B A B …) so load drifts hit both alike. */
  harnesses: HarnessId[];
  backend: BackendId;
  model: ModelId;
  batch: number;
  warmup: number;
  steps: number;
  /** Extra steps timed part by part (instrumented copy of the step). 0 = none. */
  partSteps: number;
  /** One extra step under tf.profile (peak bytes, kernels dispatched, top kernels). */
  profile: boolean;
  queue: number;
  /** Shuffle BN groups (the library's default is 8). */
  groups: number;
  /** The library's `microBatch` (0: whole batch); library harnesses only. */
  microBatch?: number;
  /** wasm only: the library's SIMD conv loops or XNNPACK's (registerWasmTrainingKernels' convKernels). */
  convKernels?: 'simd' | 'xnnpack';
  /** wasm only: fused multiply-add in the SIMD loops (registerWasmTrainingKernels' simdFma). */
  simdFma?: 'auto' | 'relaxed' | 'off';
}

/** The parts of a step, in step order. Times in ms. */
export const PARTS = [
  'augment',
  'keyForward',
  'queryForward',
  'lossDictionary',
  'backward',
  'optimizer',
  'ema',
  'enqueue',
  'readback',
] as const;
export type PartName = (typeof PARTS)[number];
export type Parts = Partial<Record<PartName | 'other', number>>;

export interface KernelStat {
  name: string;
  ms: number;
  count: number;
}

/** One child's answer. */
export interface CaseResult {
  spec: CaseSpec;
  harness: HarnessId;
  ok: boolean;
  error?: string;
  backendInfo?: string;
  threads?: number;
  /** Median wall ms of the timed steps, and all of them. */
  stepMs?: number;
  stepMsAll?: number[];
  /** Median process CPU ms of the timed steps (user + system). */
  cpuMs?: number;
  imagesPerSecond?: number;
  imagesPerCpuSecond?: number;
  /** Median of each part over the instrumented steps, and their median total. */
  partsMs?: Parts;
  partsTotalMs?: number;
  /** The dictionary head alone (positive, negatives vs the queue, InfoNCE) forward + backward to q. */
  headFwdBwdMs?: number;
  /**
   * tf.memory().numTensors just before this harness's first step, and that count plus what each of its
   * steps left behind (warm-up and timed steps; the other harness's steps in between are not counted).
   */
  numTensorsBefore?: number;
  numTensorsAfterWarmup?: number;
  numTensorsAfter?: number;
  /** Bytes of tensors the harness holds between steps (weights of both encoders, optimizer state, queue). */
  persistentBytes?: number;
  /** Other harnesses sharing the process (their persistent tensors count in peakBytes, wasm heap and RSS). */
  sharedWith?: HarnessId[];
  /** tf.profile peakBytes of one step (engine-tracked tensor bytes, the persistent ones included). */
  peakBytes?: number;
  /** Bytes the tensors of one step add at their peak over what existed before it. */
  stepPeakBytes?: number;
  kernelsPerStep?: number;
  topKernels?: KernelStat[];
  /** backend.readSync calls per step (host reads: the explicit loss read plus any inside kernels). */
  readSyncsPerStep?: number;
  wasmHeapBytes?: number;
  maxRssMB?: number;
  /** 1-minute load average, median over the timed steps. */
  load1?: number;
  loss?: number;
  seconds?: number;
}

/** A row of the final table (JSON with --json). */
export interface Row {
  model: ModelId;
  modelLabel: string;
  backend: BackendId | 'pytorch';
  threads: number | null;
  batch: number;
  /** The batch the row stands for when it was measured at a smaller one (or skipped). */
  requestedBatch: number;
  /** 'plain-loop' for the PyTorch rows too (a hand-written loop). */
  harness: 'library' | 'plain-loop';
  variant: Variant | null;
  imagesPerSecond: number | null;
  imagesPerCpuSecond: number | null;
  stepMs: number | null;
  stepMsAll: number[] | null;
  partsMs: Parts | null;
  partsTotalMs: number | null;
  headFwdBwdMs: number | null;
  peakBytes: number | null;
  stepPeakBytes: number | null;
  persistentBytes: number | null;
  sharedWith: HarnessId[] | null;
  wasmHeapBytes: number | null;
  maxRssMB: number | null;
  numTensorsBefore: number | null;
  numTensorsAfterWarmup: number | null;
  numTensorsAfter: number | null;
  kernelsPerStep: number | null;
  readSyncsPerStep: number | null;
  topKernels: KernelStat[] | null;
  load1: number | null;
  /** imagesPerSecond × analytic FLOPs per image (see bench/run.ts flopsPerImage). */
  gflops: number | null;
  /** plain-loop img/s ÷ this row's img/s, same model/backend/batch (library and plain-fastbn rows). */
  libraryOverhead: number | null;
  /** The same on process CPU time (img/CPU-s), less sensitive to other load. */
  libraryOverheadCpu: number | null;
  /** this row's img/s ÷ PyTorch 2-thread img/s of the same model (tfjs rows). */
  vsPytorch2t: number | null;
  vsPytorch1t: number | null;
  note: string;
  command: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function load1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * Counts backend.readSync calls (host reads) while installed. Bench-only: wraps the method on the
 * backend instance, so kernels that read through `backend.readSync` internally are counted too.
 */
export class ReadSyncCounter {
  count = 0;
  private readonly backend = tf.backend() as unknown as { readSync: (id: unknown) => unknown };
  private readonly original = this.backend.readSync;

  install(): this {
    const original = this.original;
    this.backend.readSync = (id: unknown) => {
      this.count++;
      return original.call(this.backend, id);
    };
    return this;
  }

  uninstall(): void {
    this.backend.readSync = this.original;
  }
}

/** The wasm backend's heap size (it only grows), or undefined on other backends. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.byteLength;
}

/** A deterministic generator for the plain loop and the benchmarks (no tfjs seeding involved). */
export class Lcg {
  private s: number;
  constructor(seed = 1) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 4294967296;
  }
}

/**
 * tf.profile of one call: peak bytes, kernels dispatched and the most expensive kernels. Scope
 * entries (op names ending in `__op`, e.g. fusedConv2d__op, and tf.customGrad nodes) wrap kernels
 * that are listed themselves, so only names registered as kernels are counted and summed. Per-kernel timing makes the profiled step
 * slower; only its counts and bytes are used.
 */
export async function profileStep(f: () => void): Promise<{ peakBytes: number; stepPeakBytes: number; kernels: number; top: KernelStat[] }> {
  const flag = 'CHECK_COMPUTATION_FOR_ERRORS';
  const before = tf.env().getBool(flag);
  tf.env().set(flag, false);
  const startBytes = tf.memory().numBytes;
  try {
    const info = await tf.profile(() => {
      f();
    });
    const byName = new Map<string, KernelStat>();
    let kernels = 0;
    const backend = tf.getBackend();
    // MOCO_BENCH_TRACE=Tile,Identity prints every call of those kernels with its shapes and time.
    const trace = new Set((process.env.MOCO_BENCH_TRACE ?? '').split(',').filter(Boolean));
    for (const k of info.kernels) {
      if (trace.has(k.name)) {
        console.error(`  trace ${k.name} ${Number(k.kernelTimeMs).toFixed(2)} ms in ${JSON.stringify(k.inputShapes)} out ${JSON.stringify(k.outputShapes)}`);
      }
      // Op scopes and tf.customGrad nodes ('unnamed scope') wrap kernels that are listed themselves.
      if (k.name.endsWith('__op') || tf.getKernel(k.name, backend) == null) continue;
      kernels++;
      const s = byName.get(k.name) ?? { name: k.name, ms: 0, count: 0 };
      s.ms += Number(k.kernelTimeMs) || 0;
      s.count++;
      byName.set(k.name, s);
    }
    const top = [...byName.values()].sort((a, b) => b.ms - a.ms).slice(0, 12);
    for (const t of top) t.ms = Math.round(t.ms * 10) / 10;
    return { peakBytes: info.peakBytes, stepPeakBytes: info.peakBytes - startBytes, kernels, top };
  } finally {
    tf.env().set(flag, before);
  }
}

/** Random images in [0,1] for the model's input. */
export function inputShape(model: ModelId, batch: number): [number, number, number, number] {
  return model === 'small' ? [batch, 28, 28, 1] : [batch, 32, 32, 3];
}

/** Median of each part over several part-timed steps. */
export function medianParts(list: Parts[]): Parts {
  const out: Parts = {};
  const keys = new Set(list.flatMap((p) => Object.keys(p))) as Set<keyof Parts>;
  for (const k of keys) out[k] = median(list.map((p) => p[k] ?? 0));
  return out;
}

/** A stopwatch that accumulates laps into named parts. */
export class PartTimer {
  readonly parts: Parts = {};
  private last = performance.now();

  reset(): void {
    this.last = performance.now();
  }

  lap(name: PartName | 'other'): void {
    const now = performance.now();
    this.parts[name] = (this.parts[name] ?? 0) + (now - this.last);
    this.last = now;
  }
}
