// `npm run bench [-- options]`: times a full MoCo training step through the library and through a
// plain hand-written tfjs loop, on every available backend, next to PyTorch CPU, and prints a table
// (or JSON with --json). A script, not a test. Measured tables: docs/performance.md
// (`--md docs/performance.md` rewrites its current main table; raw outputs are kept in docs/performance/results/).
//
// Each tfjs case runs in its own child process (bench/case.ts): a fresh wasm heap per case (it never
// shrinks), and an out-of-memory abort ends only that case. PyTorch runs bench/pytorch_step.py with
// `python3` (falling back to /usr/bin/python3, where Debian's python3-torch lives, when the first has
// no torch). Cases run one after another; nothing else of the bench runs in parallel.
//
// Options (defaults in brackets):
//   --models small,r18w16,r18w64 [all]     --backends cpu,wasm,tensorflow,pytorch [all]
//   --harness library,plain-fastbn,plain-loop[,library-autodiff-bn,library-shuffle-bn] [library,plain-fastbn,plain-loop]:
//               library = the library's default BatchNorm (one-group GroupBatchNormalization, hand-written
//               gradient), library-autodiff-bn = the library keeping the stock tfjs-layers layer,
//               library-shuffle-bn = normalization 'shuffle-bn' (--groups 8); plain-loop = the hand-written loop
//               with stock BN, plain-fastbn = the same loop with the library's one-group layer.
//               Rows report harness library|plain-loop and variant batchnorm|fast-bn|shuffle-bn.
//   --batch 128  --queue 4096  --steps N [cpu 3, others 5]  --warmup N [1; pytorch 2]
//   --parts N    part-timed steps per case [2; cpu 1]
//   --no-profile skip the tf.profile step (peak bytes, kernels); it is skipped by default for cpu ResNets
//                (a step takes minutes there) unless --profile-all
//   --threads 1,2 (PyTorch)  --python python3  --nchw (PyTorch layout; default channels_last)
//   --blas openblas|default  PyTorch's BLAS: OpenBLAS via LD_LIBRARY_PATH for its process when installed,
//               or the machine's default libblas [openblas]; the row's note names the one it mapped
//   --cpu-w64-batch N   time cpu ResNet-18 w64 at batch N and report it as such [0 = skip]
//   --wasm-w64-batch N  wasm ResNet-18 w64 when --batch > 64 (b128 exceeds the 4 GiB heap in one pass): the library
//               runs the full batch as micro-batches of N (its microBatch option), the plain loop batch N [32]
//   --quick     batch 32, 2 steps, 1 part-timed step, no profile, small + r18w16, cpu only for small:
//               a 1-2 minute run on a quiet machine
//   --json      print the rows as a JSON array instead of the table
//   --md FILE   also write the tables (command, date, load) between bench markers in FILE
//   --save FILE also write the rows as JSON to FILE
//   --render F1.json[,F2.json]  print the table of saved rows (no measuring)
//   --separate  run library and plain-loop in separate processes (default: one process, steps alternating)
//   --conv-kernels simd|xnnpack  wasm forward conv and filter gradient: the library's SIMD loops or
//               XNNPACK (the input gradient, a forward conv, follows) [simd]; wasm rows name it in the note
//   --simd-fma auto|relaxed|off  fused multiply-add in the SIMD loops (relaxed SIMD) [auto]
//   --timeout S per case [3600]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  load1,
  HARNESS_IDS,
  HARNESS_ROW,
  MODEL_LABELS,
  MODELS,
  PARTS,
  type BackendId,
  type CaseResult,
  type CaseSpec,
  type HarnessId,
  type ModelId,
  type Parts,
  type Row,
} from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const command = `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`;

function flag(name: string): boolean {
  return argv.includes(`--${name}`);
}
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < argv.length) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}
function list<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const v = opt(name);
  if (!v || v === 'all') return [...fallback];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean) as T[];
  for (const it of items) if (!allowed.includes(it)) throw new Error(`--${name}: unknown '${it}' (allowed: ${allowed.join(', ')})`);
  return items;
}
function num(name: string, fallback: number): number {
  const v = opt(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a number, got '${v}'`);
  return n;
}

const quick = flag('quick');
const json = flag('json');
const BACKENDS = ['cpu', 'wasm', 'tensorflow', 'pytorch'] as const;
type BackendOpt = (typeof BACKENDS)[number];
const models = list<ModelId>('models', MODELS, quick ? ['small', 'r18w16'] : MODELS);
const backends = list<BackendOpt>('backends', BACKENDS, BACKENDS);
const harnesses = list<HarnessId>('harness', HARNESS_IDS, ['plain-loop', 'plain-fastbn', 'library']);
const batch = num('batch', quick ? 32 : 128);
const queue = num('queue', 4096);
const groups = num('groups', 8);
const stepsOpt = opt('steps') !== undefined ? num('steps', 5) : undefined;
const warmupOpt = opt('warmup') !== undefined ? num('warmup', 1) : undefined;
const partsOpt = opt('parts') !== undefined ? num('parts', 2) : undefined;
const profile = !flag('no-profile') && !quick;
const profileAll = flag('profile-all');
const ptThreads = (opt('threads') ?? '1,2').split(',').map(Number).filter((n) => n > 0);
const cpuW64Batch = num('cpu-w64-batch', 0);
const wasmW64Batch = num('wasm-w64-batch', 32);
const timeoutS = num('timeout', 3600);
const mdFile = opt('md');
const python = opt('python') ?? 'python3';
const separate = flag('separate');
const convKernels = list<'simd' | 'xnnpack'>('conv-kernels', ['simd', 'xnnpack'], ['simd']);
const simdFma = list<'auto' | 'relaxed' | 'off'>('simd-fma', ['auto', 'relaxed', 'off'], ['auto'])[0];
if (convKernels.length !== 1) throw new Error('--conv-kernels: give one of simd, xnnpack');

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function stepsFor(backend: BackendOpt): { steps: number; warmup: number; parts: number } {
  const slow = backend === 'cpu';
  return {
    steps: stepsOpt ?? (quick ? 2 : slow ? 3 : 5),
    warmup: warmupOpt ?? (backend === 'pytorch' ? 2 : 1),
    parts: partsOpt ?? (quick || slow ? 1 : 2),
  };
}

function emptyRow(model: ModelId, backend: Row['backend'], harness: Row['harness'], variant: Row['variant'], b: number, note: string): Row {
  return {
    model,
    modelLabel: MODEL_LABELS[model],
    backend,
    threads: null,
    batch: b,
    requestedBatch: batch,
    harness,
    variant,
    imagesPerSecond: null,
    imagesPerCpuSecond: null,
    stepMs: null,
    stepMsAll: null,
    partsMs: null,
    partsTotalMs: null,
    headFwdBwdMs: null,
    peakBytes: null,
    stepPeakBytes: null,
    persistentBytes: null,
    sharedWith: null,
    wasmHeapBytes: null,
    maxRssMB: null,
    numTensorsBefore: null,
    numTensorsAfterWarmup: null,
    numTensorsAfter: null,
    kernelsPerStep: null,
    readSyncsPerStep: null,
    topKernels: null,
    load1: null,
    gflops: null,
    libraryOverhead: null,
    libraryOverheadCpu: null,
    vsPytorch2t: null,
    vsPytorch1t: null,
    note,
    command,
  };
}

/** Runs a child process; resolves with its stdout (stderr is streamed through, indented). */
function runChild(cmd: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d.toString().replace(/^(?=.)/gm, '    ')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: JSON.stringify({ error: err.message }), signal: null });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, signal });
    });
  });
}

function tensorflowInstalled(): boolean {
  try {
    createRequire(path.join(root, 'package.json')).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function runTfjsCase(spec: CaseSpec): Promise<CaseResult[]> {
  log(`\n== ${spec.model} · ${spec.backend} · b${spec.batch} · ${spec.harnesses.join(' + ')} (load ${load1()})`);
  const args = [...process.execArgv, path.join(here, 'case.ts'), JSON.stringify(spec)];
  const out = await runChild(process.execPath, args, timeoutS * 1000);
  const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (line) return JSON.parse(line.slice('BENCH_RESULT '.length)) as CaseResult[];
  const why = out.signal === 'SIGKILL' ? `timed out after ${timeoutS} s` : `process ended (code ${out.code}, signal ${out.signal}) without a result`;
  return spec.harnesses.map((harness) => ({ spec, harness, ok: false, error: why, load1: load1() }));
}

interface PtResult {
  threads: number;
  batch: number;
  stepMs: number;
  stepMsAll: number[];
  cpuMs: number;
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  partsMs: Record<string, number>;
  peakRssMB: number;
  load1: number;
  layout: string;
  version: string;
  python: string;
  blas?: string;
  error?: string;
}

/**
 * PyTorch's environment: OpenBLAS (Debian's libopenblas0-pthread) first on the loader path of that one
 * process when it is installed, so the yardstick is what a PyTorch user gets with an optimized BLAS
 * whatever the machine's default libblas is; --blas default leaves the loader path alone. The row's note
 * names the BLAS the process actually mapped (pytorch_step.py reads /proc/self/maps).
 */
function pytorchEnv(): NodeJS.ProcessEnv {
  const dir = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
  if (opt('blas') === 'default' || !existsSync(dir)) return process.env;
  const prev = process.env.LD_LIBRARY_PATH;
  return { ...process.env, LD_LIBRARY_PATH: prev ? `${dir}:${prev}` : dir };
}

async function runPytorch(model: ModelId, b: number): Promise<{ results: PtResult[]; error?: string }> {
  const { steps, warmup } = stepsFor('pytorch');
  const script = path.join(here, 'pytorch_step.py');
  const args = [script, '--model', model, '--batch', String(b), '--threads', ptThreads.join(','), '--steps', String(steps), '--warmup', String(warmup), '--queue', String(queue)];
  if (flag('nchw')) args.push('--nchw');
  const candidates = opt('python') ? [python] : [python, '/usr/bin/python3'].filter((p, i, a) => a.indexOf(p) === i);
  let lastError = '';
  for (const py of candidates) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    log(`\n== pytorch · ${model} · b${b} · threads ${ptThreads.join(',')} (${py}; load ${load1()})`);
    const out = await runChild(py, args, timeoutS * 1000, pytorchEnv());
    const parsed = out.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as PtResult);
    const ok = parsed.filter((p) => !p.error);
    if (ok.length) return { results: ok };
    lastError = parsed.find((p) => p.error)?.error ?? `${py} exited with code ${out.code}`;
    log(`    ${py}: ${lastError}`);
  }
  return { results: [], error: lastError };
}

function caseRow(r: CaseResult, note: string): Row {
  const s = r.spec;
  const { harness, variant } = HARNESS_ROW[r.harness];
  const row = emptyRow(s.model, s.backend, harness, variant, s.batch, note);
  if (!r.ok) {
    row.note = [note, `failed: ${r.error}`].filter(Boolean).join('; ');
    row.load1 = r.load1 ?? null;
    return row;
  }
  Object.assign(row, {
    threads: r.threads ?? null,
    imagesPerSecond: r.imagesPerSecond ?? null,
    imagesPerCpuSecond: r.imagesPerCpuSecond ?? null,
    stepMs: r.stepMs ?? null,
    stepMsAll: r.stepMsAll ?? null,
    partsMs: r.partsMs ?? null,
    partsTotalMs: r.partsTotalMs ?? null,
    headFwdBwdMs: r.headFwdBwdMs ?? null,
    peakBytes: r.peakBytes ?? null,
    stepPeakBytes: r.stepPeakBytes ?? null,
    persistentBytes: r.persistentBytes ?? null,
    sharedWith: r.sharedWith ?? null,
    wasmHeapBytes: r.wasmHeapBytes ?? null,
    maxRssMB: r.maxRssMB ?? null,
    numTensorsBefore: r.numTensorsBefore ?? null,
    numTensorsAfterWarmup: r.numTensorsAfterWarmup ?? null,
    numTensorsAfter: r.numTensorsAfter ?? null,
    kernelsPerStep: r.kernelsPerStep ?? null,
    readSyncsPerStep: r.readSyncsPerStep ?? null,
    topKernels: r.topKernels ?? null,
    load1: r.load1 ?? null,
  });
  return row;
}

async function main(): Promise<void> {
  const renderFrom = opt('render');
  if (renderFrom) {
    // Re-render saved rows (from --save) without measuring; ratios are recomputed across the files.
    const rows = renderFrom.split(',').flatMap((file) => JSON.parse(readFileSync(path.resolve(file), 'utf8')) as Row[]);
    computeRatios(rows);
    process.stdout.write((json ? JSON.stringify(rows, null, 2) : render(rows, 0, rows[0]?.command)) + '\n');
    return;
  }
  log(`tfjs-moco bench: ${command}`);
  log(`${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: Row[] = [];
  const started = Date.now();
  for (const model of models) {
    // PyTorch first: the anchor the tfjs rows are compared with.
    if (backends.includes('pytorch')) {
      const pt = await runPytorch(model, batch);
      if (pt.results.length === 0) {
        rows.push(emptyRow(model, 'pytorch', 'plain-loop', 'batchnorm', batch, `skipped: PyTorch not available (${pt.error}); apt-get install -y python3-torch`));
      }
      for (const p of pt.results) {
        const row = emptyRow(model, 'pytorch', 'plain-loop', 'batchnorm', p.batch, `torch ${p.version}, ${p.layout}, BLAS ${p.blas ?? 'unknown'}`);
        Object.assign(row, {
          threads: p.threads,
          imagesPerSecond: p.imagesPerSecond,
          imagesPerCpuSecond: p.imagesPerCpuSecond,
          stepMs: p.stepMs,
          stepMsAll: p.stepMsAll.map((t) => Math.round(t)),
          partsMs: p.partsMs as Parts,
          partsTotalMs: p.stepMs,
          maxRssMB: p.peakRssMB,
          load1: p.load1,
        });
        rows.push(row);
      }
    }
    for (const backend of backends) {
      if (backend === 'pytorch') continue;
      if (backend === 'tensorflow' && !tensorflowInstalled()) {
        rows.push(emptyRow(model, 'tensorflow', 'library', null, batch, 'skipped: @tensorflow/tfjs-node is not installed (its install script downloads libtensorflow from storage.googleapis.com)'));
        continue;
      }
      let b = batch;
      let note = '';
      if (backend === 'cpu' && model === 'r18w64' && batch > 8) {
        if (cpuW64Batch <= 0) {
          rows.push(emptyRow(model, 'cpu', 'library', null, batch,
            `skipped: far too slow on cpu (≈0.18 img/s, ≈700 s per b${batch} step, per shared notes); --cpu-w64-batch 8 times b8`));
          continue;
        }
        b = cpuW64Batch;
        note = `measured at b${b} (b${batch} would take ≈${Math.round(batch / 0.18)} s/step); per-image rate only`;
      }
      if (backend === 'cpu' && quick && model !== 'small') {
        rows.push(emptyRow(model, 'cpu', 'library', null, batch, 'skipped in --quick (minutes per step on cpu)'));
        continue;
      }
      let microBatch = 0;
      if (backend === 'wasm' && model === 'r18w64' && batch > 64) {
        microBatch = wasmW64Batch;
        note = `b${batch} does not fit the 4 GiB wasm32 heap in one pass (peak 3.6 GiB already at b64)`;
      }
      if (queue % b !== 0) throw new Error(`--queue ${queue} must be a multiple of the batch ${b} (ring-buffer enqueue of the plain loop)`);
      const { steps, warmup, parts } = stepsFor(backend);
      // Together in one process, steps alternating (default), or each in its own (--separate).
      // With micro-batching the library runs the full batch in parts; the plain loop (no micro-batching)
      // runs one part's batch, in its own process.
      const isLibrary = (h: HarnessId) => HARNESS_ROW[h].harness === 'library';
      const groupsOfHarnesses = separate || microBatch ? harnesses.map((h) => [h]) : [harnesses];
      for (const group of groupsOfHarnesses) {
        // A profiled step costs one more step: skipped where steps take minutes (cpu, ResNets) unless --profile-all.
        const prof = profile && (profileAll || backend !== 'cpu' || model === 'small');
        const micro = microBatch > 0 && isLibrary(group[0]);
        const caseBatch = microBatch > 0 && !micro ? microBatch : b;
        const spec: CaseSpec = { harnesses: group, backend, model, batch: caseBatch, warmup, steps, partSteps: micro ? 0 : parts, profile: prof, queue, groups, microBatch: micro ? microBatch : 0, convKernels: convKernels[0], simdFma };
        const convNote = backend === 'wasm' ? `conv: ${convKernels[0] === 'simd' ? `SIMD loops, simdFma ${simdFma}` : 'XNNPACK'}` : '';
        const microNote = microBatch ? (micro ? `micro-batches of ${microBatch} (library microBatch), gradients summed` : `measured at b${caseBatch}`) : '';
        const caseNote = [note, microNote, convNote].filter(Boolean).join('; ');
        for (const r of await runTfjsCase(spec)) rows.push(caseRow(r, caseNote));
      }
    }
  }
  computeRatios(rows);
  const minutes = (Date.now() - started) / 60000;
  if (json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  } else {
    process.stdout.write(render(rows, minutes) + '\n');
  }
  if (mdFile) writeMarkdown(mdFile, render(rows, minutes));
  const saveFile = opt('save');
  if (saveFile) {
    writeFileSync(path.resolve(saveFile), JSON.stringify(rows, null, 2) + '\n');
    log(`rows written to ${saveFile}`);
  }
}

/**
 * Multiply-adds per image of encoder + 128-d linear head (src/models docs, measured by countMacs in
 * test/models: ResNet-18 w64 555.4 M, w16 35.0 M, smallConvNet 9.40 M).
 */
const MACS: Record<ModelId, number> = { small: 9.40e6 + 128 * 128, r18w16: 35.0e6 + 128 * 128, r18w64: 555.4e6 + 512 * 128 };
/** FLOPs of one image's step: query fwd (F) + bwd (≈2F) + key fwd (F), F = 2·MACs, plus logits fwd + dq (4·K·d). */
const flopsPerImage = (m: ModelId) => 4 * 2 * MACS[m] + 4 * queue * 128;

function computeRatios(rows: Row[]): void {
  for (const r of rows) {
    if (r.imagesPerSecond == null) continue;
    r.gflops = (r.imagesPerSecond * flopsPerImage(r.model)) / 1e9;
    // The library's overhead: against the plain loop with the same BatchNorm layer (fast-bn ↔ fast-bn,
    // batchnorm ↔ batchnorm; shuffle-bn against stock BN, as the plain loop has no shuffle).
    const plainVariant = r.variant === 'fast-bn' ? 'fast-bn' : 'batchnorm';
    const isPlain = (p: Row) => p.harness === 'plain-loop' && p.variant === plainVariant;
    if (r.backend !== 'pytorch' && r.harness === 'library') {
      // Prefer the plain loop measured in the same run (and process) as this row.
      const candidates = rows.filter((p) => isPlain(p) && p.model === r.model && p.backend === r.backend && p.batch === r.batch && p.imagesPerSecond != null);
      const plain = candidates.find((p) => p.command === r.command) ?? candidates[0];
      if (plain) r.libraryOverhead = plain.imagesPerSecond! / r.imagesPerSecond;
      if (plain?.imagesPerCpuSecond && r.imagesPerCpuSecond) r.libraryOverheadCpu = plain.imagesPerCpuSecond / r.imagesPerCpuSecond;
    }
    if (r.backend !== 'pytorch') {
      const pt = (t: number) => rows.find((p) => p.backend === 'pytorch' && p.model === r.model && p.threads === t && p.imagesPerSecond != null);
      const p2 = pt(2);
      const p1 = pt(1);
      if (p2) r.vsPytorch2t = r.imagesPerSecond / p2.imagesPerSecond!;
      if (p1) r.vsPytorch1t = r.imagesPerSecond / p1.imagesPerSecond!;
    }
  }
}

const f = (v: number | null | undefined, d = 1) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));
const mib = (v: number | null | undefined) => (v == null ? '—' : `${(v / 2 ** 20).toFixed(0)} MiB`);
const ratio = (v: number | null) => (v == null ? '—' : v >= 1 ? `${v.toFixed(2)}×` : `1/${(1 / v).toFixed(1)}`);

function render(rows: Row[], minutes: number, from?: string): string {
  const out: string[] = [];
  if (from) {
    out.push(`Rows measured by: \`${[...new Set(rows.map((r) => r.command))].join('`, `')}\` (re-rendered by \`${command}\`)`);
  } else {
    out.push(`Command: \`${command}\``);
  }
  if (!from) out.push(`Date: ${new Date().toISOString()} · ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length} · node ${process.version} · load at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} · ${minutes.toFixed(1)} min`);
  out.push('');
  out.push('img/s = batch ÷ median wall time of the timed steps (after warm-up); img/CPU-s uses the process CPU time instead');
  out.push('(less sensitive to other load on a single-threaded backend). overhead (library rows) = plain-loop img/s with the same BatchNorm layer ÷ this row\'s img/s,');
  out.push('same backend, model and batch (>1: this row is slower; "cpu" = the same on img/CPU-s). variant = BatchNorm flavour:');
  out.push('batchnorm (stock tfjs-layers BN, tfjs autodiff), fast-bn (the library\'s GroupBatchNormalization, one group, hand-written gradient:');
  out.push('the library\'s default for normalization \'batchnorm\'), shuffle-bn (the library\'s Shuffle BN, 8 groups).');
  out.push('PyTorch rows are its own hand-written loop (harness plain-loop). GFLOP/s = img/s × analytic FLOPs per image (4 × 2 × MACs of encoder');
  out.push(`+ head, + 4·K·d for the dictionary: small ${(flopsPerImage('small') / 1e6).toFixed(0)} MFLOP, r18w16 ${(flopsPerImage('r18w16') / 1e6).toFixed(0)} MFLOP, r18w64 ${(flopsPerImage('r18w64') / 1e9).toFixed(2)} GFLOP).`);
  out.push('×PyTorch = tfjs img/s ÷ PyTorch img/s, same model and batch (2 and 1 threads). load = 1-min load average.');
  out.push('');
  out.push('| model | backend | thr | harness | variant | batch | img/s | GFLOP/s | ms/step median [all] | img/CPU-s | overhead wall / cpu | ×PyTorch 2t | ×PyTorch 1t | load | note |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(`| ${r.model} | ${r.backend} | ${r.threads ?? '—'} | ${r.harness} | ${r.variant ?? '—'} | ${r.batch} | ${f(r.imagesPerSecond, 2)} | ${f(r.gflops, 1)} | ${f(r.stepMs, 0)} [${r.stepMsAll?.join(', ') ?? ''}] | ${f(r.imagesPerCpuSecond, 2)} | ${r.libraryOverhead == null ? '—' : `${r.libraryOverhead.toFixed(2)} / ${f(r.libraryOverheadCpu, 2)}`} | ${ratio(r.vsPytorch2t)} | ${ratio(r.vsPytorch1t)} | ${f(r.load1, 1)} | ${r.note} |`);
  }
  const measured = rows.filter((r) => r.partsMs);
  if (measured.length) {
    out.push('');
    out.push('Share of each part of the step, % of the part-timed step (ms in brackets). tfjs: a benchmark-only copy of the step');
    out.push('with a stopwatch lap after each part (cpu/wasm kernels run synchronously, so laps are exact; forward/backward split');
    out.push('inside the variableGrads closure). PyTorch: perf_counter laps in the same places. "other" = tidy bookkeeping/disposal.');
    out.push('head = the dictionary + loss alone (queue matmul, logits, InfoNCE) forward + backward to q, timed separately.');
    out.push('');
    out.push(`| model | backend | thr | harness | variant | ${PARTS.map((p) => p).join(' | ')} | other | Σ parts ms | step ms | head fwd+bwd ms |`);
    out.push(`|---|---|---|---|---|${PARTS.map(() => '---|').join('')}---|---|---|---|`);
    for (const r of measured) {
      const p = r.partsMs!;
      const total = Object.values(p).reduce((a: number, b) => a + (b ?? 0), 0);
      const cell = (v: number | undefined) => (v == null ? '—' : `${((100 * v) / total).toFixed(1)} (${v.toFixed(0)})`);
      out.push(`| ${r.model} | ${r.backend} | ${r.threads ?? '—'} | ${r.harness} | ${r.variant ?? '—'} | ${PARTS.map((k) => cell(p[k])).join(' | ')} | ${cell(p.other)} | ${f(total, 0)} | ${f(r.stepMs, 0)} | ${f(r.headFwdBwdMs, 0)} |`);
    }
  }
  const mem = rows.filter((r) => r.backend !== 'pytorch' && r.imagesPerSecond != null);
  if (mem.length) {
    out.push('');
    out.push('Memory and dispatch. persistent = tensor bytes the harness keeps between steps (both encoders, optimizer state,');
    out.push('queue); step peak = the most tensor bytes one step adds on top (tf.profile); peak tf = tf.profile peakBytes (every');
    out.push('tensor in the process); wasm heap = wasm memory size at the end (it only grows); heap, RSS and peak tf are per process,');
    out.push('which both harnesses share unless --separate. tensors = tf.memory().numTensors before the harness\'s first step → plus what');
    out.push('its warm-up steps left → plus what all its steps left; kernels = kernels dispatched per step; reads = backend.readSync calls per step.');
    out.push('');
    out.push('| model | backend | harness | variant | batch | persistent | step peak | peak tf | wasm heap | max RSS | tensors before → warm → end | kernels/step | reads/step | top kernels (profiled step, ms) |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of mem) {
      const top = (r.topKernels ?? []).slice(0, 6).map((k) => `${k.name} ${k.ms.toFixed(0)}`).join(', ');
      out.push(`| ${r.model} | ${r.backend} | ${r.harness} | ${r.variant ?? '—'} | ${r.batch} | ${mib(r.persistentBytes)} | ${mib(r.stepPeakBytes)} | ${mib(r.peakBytes)} | ${mib(r.wasmHeapBytes)} | ${f(r.maxRssMB, 0)} MiB | ${r.numTensorsBefore ?? '—'} → ${r.numTensorsAfterWarmup ?? '—'} → ${r.numTensorsAfter ?? '—'} | ${r.kernelsPerStep ?? '—'} | ${f(r.readSyncsPerStep, 1)} | ${top} |`);
    }
  }
  const pt = rows.filter((r) => r.backend === 'pytorch' && r.maxRssMB != null);
  if (pt.length) out.push('', `PyTorch max RSS: ${pt.map((r) => `${r.model} ${r.threads}t ${f(r.maxRssMB, 0)} MiB`).join(', ')}.`);
  return out.join('\n');
}

function writeMarkdown(file: string, body: string): void {
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const block = `${begin}\n${body}\n${end}`;
  const target = path.resolve(file);
  let text = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (text.includes(begin) && text.includes(end)) {
    text = text.slice(0, text.indexOf(begin)) + block + text.slice(text.indexOf(end) + end.length);
  } else {
    text = `${text}${text ? '\n\n' : ''}${block}\n`;
  }
  writeFileSync(target, text);
  log(`tables written to ${file}`);
}

await main();
