// Picks the fastest TensorFlow.js backend that can actually run here, in this order for 'auto':
//   1. @tensorflow/tfjs-node-gpu, only if it loads AND TensorFlow reports a GPU device. With the
//      CUDA 11.2/cuDNN 8.1 libraries missing it still loads and silently runs on the CPU.
//   2. @tensorflow/tfjs-node: libtensorflow's multi-threaded CPU kernels.
//   3. @tensorflow/tfjs-backend-wasm, with tfjs-moco's training kernels (it lacks
//      Conv2DBackpropFilter and three others): single-threaded XNNPACK under Node.
//   4. the cpu backend (pure JS), with tfjs-moco's Conv2DBackpropFilter, broadcasting elementwise
//      and Sum/Mean replacements.
// All but cpu are optional packages. The tfjs-node pair cannot be installed on machines without
// access to storage.googleapis.com (their install script downloads libtensorflow), so "not
// installed" (MODULE_NOT_FOUND) is a normal outcome that is recorded, not an error.
//
// At most one of tfjs-node / tfjs-node-gpu is ever imported: both register the 'tensorflow'
// backend and load their own native addon (tensorflow/tfjs#1364). Once either has registered
// 'tensorflow', that backend is reused and the other package is never imported.
import * as tf from '@tensorflow/tfjs-core';
import { registerCpuTrainingKernels } from './cpu-training-kernels.js';
import { missingTrainingKernels } from './training-kernels.js';
import { registerWasmTrainingKernels, wasmConvKernels } from './wasm-training-kernels.js';
import { simdConvBuild } from './simd-conv.js';
import type { WasmTrainingKernelsArgs } from './wasm-kernel-options.js';

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendAttempt {
  package: string;
  ok: boolean;
  reason: string;
}

export interface BackendChoice {
  name: 'tensorflow' | 'wasm' | 'cpu';
  package: string;
  gpu: boolean;
  reason: string;
  /** Every candidate looked at, in order, the chosen one last (ok: true). */
  tried: BackendAttempt[];
}

/** Loads a module by specifier; injectable so tests can simulate installed/missing packages. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

export interface SelectBackendOptions {
  /** The backend to use, or 'auto' for the fastest one installed. Default: 'auto'. */
  prefer?: BackendPreference;
  /** Require every kernel of a conv-net training step (checked for wasm, the only incomplete one). Default: false. */
  needsTraining?: boolean;
  /** Receives one line saying which backend was chosen and why. Default: none. */
  log?: (msg: string) => void;
  /** Loads the backend packages. Default: the runtime's dynamic `import()`. */
  importer?: ModuleImporter;
  /** How the wasm training kernels run when wasm is chosen (see WasmTrainingKernelsArgs). Default: their defaults. */
  wasmKernels?: WasmTrainingKernelsArgs;
}

export const BACKEND_PACKAGES = Object.freeze({
  tensorflowGpu: '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
});

const NODE_GPU = BACKEND_PACKAGES.tensorflowGpu;
const NODE = BACKEND_PACKAGES.tensorflow;
const WASM = BACKEND_PACKAGES.wasm;
const CPU = BACKEND_PACKAGES.cpu;

const INSTALL_HINTS: Record<string, string> = {
  [NODE_GPU]:
    'npm install @tensorflow/tfjs-node-gpu@4.22.0 (Linux x86_64 or Windows; needs an NVIDIA driver > 450, ' +
    'CUDA 11.2 and cuDNN 8.1; its install script downloads libtensorflow 2.9.1 from storage.googleapis.com)',
  [NODE]:
    'npm install @tensorflow/tfjs-node@4.22.0 (its install script downloads libtensorflow 2.9.1 from ' +
    'storage.googleapis.com)',
  [WASM]: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
};

const defaultImporter: ModuleImporter = (specifier) => import(specifier);

type Choice = Omit<BackendChoice, 'tried'>;
type Outcome = { ok: true; choice: Choice } | { ok: false; package: string; reason: string };

interface Context {
  importer: ModuleImporter;
  needsTraining: boolean;
  wasmKernels: WasmTrainingKernelsArgs;
  /** What importing each tfjs-node flavour did; decides whether the other one may be imported. */
  gpuPackage: ImportState;
  nodePackage: ImportState;
}

type ImportState = 'untried' | 'absent' | 'broken' | 'loaded';

/** The flags tfjs-node's NodeJSKernelBackend sets in its constructor (nodejs_kernel_backend.ts). */
interface TensorflowBackendFlags {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

/**
 * Selects, initializes and activates a backend (tf.setBackend), and returns what was chosen and
 * why. Throws only when `prefer` names a backend that cannot be used.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  const prefer = options.prefer ?? 'auto';
  const ctx: Context = {
    importer: options.importer ?? defaultImporter,
    needsTraining: options.needsTraining ?? false,
    wasmKernels: options.wasmKernels ?? {},
    gpuPackage: 'untried',
    nodePackage: 'untried',
  };
  // A step returns null when it does not apply (nothing was looked at, nothing to record).
  const plan: Record<BackendPreference, Array<(c: Context) => Promise<Outcome | null>>> = {
    auto: [tryTensorflowGpu, tryTensorflowCpu, tryWasm, tryCpu],
    'tensorflow-gpu': [tryTensorflowGpu],
    tensorflow: [tryTensorflowCpu, tryTensorflowAnyFromGpuPackage],
    wasm: [tryWasm],
    cpu: [tryCpu],
  };
  const steps = plan[prefer];
  if (steps == null) throw new Error(`tfjs-moco: unknown backend preference '${String(prefer)}'`);

  const tried: BackendAttempt[] = [];
  for (const step of steps) {
    const outcome = await step(ctx);
    if (outcome == null) continue;
    if (outcome.ok) {
      tried.push({ package: outcome.choice.package, ok: true, reason: outcome.choice.reason });
      const fallbacks = tried.filter((t) => !t.ok).map((t) => `${t.package}: ${t.reason}`);
      const reason = fallbacks.length === 0
        ? outcome.choice.reason
        : `${outcome.choice.reason} (passed over: ${fallbacks.join('; ')})`;
      const choice: BackendChoice = { ...outcome.choice, reason, tried };
      options.log?.(`tfjs-moco: backend ${choice.name} (${choice.package}): ${choice.reason}`);
      return choice;
    }
    tried.push({ package: outcome.package, ok: false, reason: outcome.reason });
  }
  // Only a forced preference gets here: 'auto' always ends with cpu, which cannot fail.
  const failures = tried.map((t) => `${t.package} ${t.reason}`).join('; ');
  const hints = [...new Set(tried.map((t) => INSTALL_HINTS[t.package]).filter((h) => h != null))];
  throw new Error(
    `tfjs-moco: backend '${prefer}' was requested but cannot be used: ${failures}.` +
      (hints.length > 0 ? ` Install with: ${hints.join(' or ')}.` : '') +
      ` Or use prefer: 'auto' to fall back to the best available backend.`,
  );
}

async function tryTensorflowGpu(ctx: Context): Promise<Outcome> {
  if (!tensorflowRegistered()) {
    const loaded = await importPackage(ctx.importer, NODE_GPU);
    ctx.gpuPackage = importState(loaded);
    if (!loaded.ok) return fail(NODE_GPU, loaded.reason);
  }
  const active = await activateTensorflow();
  if (!active.ok) return fail(NODE_GPU, active.reason);
  if (active.package !== NODE_GPU) {
    return fail(NODE_GPU, `not imported: ${NODE} is already loaded, and only one of the two can be loaded in a process`);
  }
  if (!active.gpu) {
    return fail(
      NODE_GPU,
      'loaded, but TensorFlow sees no GPU device (isUsingGpuDevice = false; it needs an NVIDIA driver > 450, ' +
        'CUDA 11.2 and cuDNN 8.1)',
    );
  }
  return succeed({ name: 'tensorflow', package: NODE_GPU, gpu: true, reason: 'libtensorflow 2.9.1 on a CUDA GPU' });
}

async function tryTensorflowCpu(ctx: Context): Promise<Outcome> {
  if (!tensorflowRegistered()) {
    if (ctx.gpuPackage === 'broken' || ctx.gpuPackage === 'loaded') {
      // 'loaded' without a registered backend means the package misbehaved; either way a second
      // native TensorFlow package must not be loaded next to it.
      return fail(NODE, `not imported: ${NODE_GPU} is installed but unusable, and only one of the two may be loaded in a process`);
    }
    const loaded = await importPackage(ctx.importer, NODE);
    ctx.nodePackage = importState(loaded);
    if (!loaded.ok) return fail(NODE, loaded.reason);
  }
  const active = await activateTensorflow();
  if (!active.ok) return fail(NODE, active.reason);
  if (active.package === NODE_GPU) {
    return succeed({
      name: 'tensorflow',
      package: NODE_GPU,
      gpu: active.gpu,
      reason: active.gpu
        ? 'libtensorflow 2.9.1 on a CUDA GPU'
        : `libtensorflow 2.9.1 CPU kernels from ${NODE_GPU}, which is already loaded (no GPU device visible; ${NODE} ` +
          'is not imported next to it)',
    });
  }
  return succeed({ name: 'tensorflow', package: NODE, gpu: active.gpu, reason: 'libtensorflow 2.9.1 CPU kernels (native, multi-threaded)' });
}

/** prefer: 'tensorflow' when tfjs-node is not installed: the GPU package will do, GPU or not. */
async function tryTensorflowAnyFromGpuPackage(ctx: Context): Promise<Outcome | null> {
  if (ctx.nodePackage !== 'absent' || ctx.gpuPackage !== 'untried' || tensorflowRegistered()) return null;
  const loaded = await importPackage(ctx.importer, NODE_GPU);
  ctx.gpuPackage = importState(loaded);
  if (!loaded.ok) return fail(NODE_GPU, loaded.reason);
  const active = await activateTensorflow();
  if (!active.ok) return fail(NODE_GPU, active.reason);
  return succeed({
    name: 'tensorflow',
    package: NODE_GPU,
    gpu: active.gpu,
    reason: active.gpu ? 'libtensorflow 2.9.1 on a CUDA GPU' : `libtensorflow 2.9.1 CPU kernels from ${NODE_GPU} (no GPU device visible)`,
  });
}

async function tryWasm(ctx: Context): Promise<Outcome> {
  const loaded = await importPackage(ctx.importer, WASM);
  if (!loaded.ok) return fail(WASM, loaded.reason);
  // After the import, so that the stock Conv2DBackpropInput exists and gets its replacement.
  registerWasmTrainingKernels(ctx.wasmKernels);
  if (tf.findBackendFactory('wasm') == null) return fail(WASM, "loaded, but registered no 'wasm' backend");
  const init = await activate('wasm');
  if (init != null) {
    return fail(WASM, `${init} (if its .wasm files are not next to its dist/ bundle, call setWasmPaths first)`);
  }
  if (ctx.needsTraining) {
    const missing = missingTrainingKernels('wasm');
    if (missing.length > 0) return fail(WASM, `lacks training kernels: ${missing.join(', ')}`);
  }
  const simd = readBoolFlag('WASM_HAS_SIMD_SUPPORT');
  return succeed({
    name: 'wasm',
    package: WASM,
    gpu: false,
    reason: `XNNPACK${simd ? ' with SIMD' : ' without SIMD'}, single-threaded under Node; training kernels added by tfjs-moco` +
      (wasmConvKernels() === 'simd'
        ? `, convolutions on tfjs-moco's SIMD loops${simdConvBuild() === 'relaxed' ? ' (fused multiply-add: relaxed SIMD)' : ''}`
        : ''),
  });
}

async function tryCpu(): Promise<Outcome> {
  registerCpuTrainingKernels();
  const init = await activate('cpu');
  if (init != null) return fail(CPU, init);
  return succeed({
    name: 'cpu',
    package: CPU,
    gpu: false,
    reason:
      'pure-JS kernels, single-threaded, the slowest option (Conv2DBackpropFilter, broadcasting elementwise ops, Sum ' +
      'and Mean replaced by tfjs-moco)',
  });
}

function tensorflowRegistered(): boolean {
  return tf.findBackendFactory('tensorflow') != null;
}

async function activateTensorflow(): Promise<{ ok: true; package: string; gpu: boolean } | { ok: false; reason: string }> {
  if (!tensorflowRegistered()) return { ok: false, reason: "loaded, but registered no 'tensorflow' backend" };
  const init = await activate('tensorflow');
  if (init != null) return { ok: false, reason: init };
  const flags = tf.backend() as unknown as TensorflowBackendFlags;
  return { ok: true, package: flags.isGPUPackage === true ? NODE_GPU : NODE, gpu: flags.isUsingGpuDevice === true };
}

/** tf.setBackend; returns null on success, otherwise why it failed. */
async function activate(name: string): Promise<string | null> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      return null;
    }
    return `backend '${name}' failed to initialize`;
  } catch (err) {
    return `backend '${name}' failed to initialize: ${firstLine(err)}`;
  }
}

async function importPackage(
  importer: ModuleImporter,
  pkg: string,
): Promise<{ ok: true } | { ok: false; notInstalled: boolean; reason: string }> {
  try {
    await importer(pkg);
    return { ok: true };
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const message = firstLine(err);
    // Only "this very package is missing" counts as not installed. A missing dependency of an
    // installed package (e.g. "Cannot find package '@tensorflow/tfjs' imported from
    // .../tfjs-node/...") or a missing native addon is a broken install, and is reported as such.
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${pkg}'`)) {
      return { ok: false, notInstalled: true, reason: 'not installed' };
    }
    return { ok: false, notInstalled: false, reason: `installed but failed to load: ${message}` };
  }
}

function importState(loaded: { ok: true } | { ok: false; notInstalled: boolean }): ImportState {
  if (loaded.ok) return 'loaded';
  return loaded.notInstalled ? 'absent' : 'broken';
}

function readBoolFlag(flag: string): boolean {
  try {
    return tf.env().getBool(flag);
  } catch {
    return false; // flag not registered (e.g. a stand-in wasm module in tests)
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

function succeed(choice: Choice): Outcome {
  return { ok: true, choice };
}

function fail(pkg: string, reason: string): Outcome {
  return { ok: false, package: pkg, reason };
}
