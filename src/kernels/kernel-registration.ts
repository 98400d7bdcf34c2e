// Idempotent kernel (re)registration. tfjs keeps one kernel per (name, backend) in a global
// registry, and registering over an existing one only logs a warning, so:
//  - a missing kernel is added only if nothing is registered under that key (a future backend
//    release that ships its own kernel wins);
//  - a replacement first unregisters the stock kernel, and remembers it on the replacement's
//    config object, where tests, benchmarks and the replacement itself (to delegate cases it does
//    not handle) find it again. Keeping it on the config rather than in module state means two
//    copies of this library in one process still see each other's replacements.
import * as tf from '@tensorflow/tfjs-core';

const STOCK = Symbol.for('tfjs-moco.stock-kernel');
const OURS = Symbol.for('tfjs-moco.kernel');

type MarkedConfig = tf.KernelConfig & { [STOCK]?: tf.KernelConfig; [OURS]?: true };

export type RegistrationOutcome =
  | 'registered' // added, nothing was registered before
  | 'replaced' // stock kernel unregistered, ours registered
  | 'already-registered' // ours was already there: nothing done
  | 'provided-by-backend' // the backend has its own kernel, left alone
  | 'no-stock-kernel'; // replacement skipped: the backend's package is not loaded yet

/** True if the kernel registered under (name, backend) came from tfjs-moco. */
export function isMocoKernel(kernelName: string, backendName: string): boolean {
  const current = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  return current?.[OURS] === true;
}

/** Registers `config` unless some kernel is already registered under its (name, backend). */
export function registerIfMissing(config: tf.KernelConfig): RegistrationOutcome {
  const current = tf.getKernel(config.kernelName, config.backendName) as MarkedConfig | undefined;
  if (current != null) return current[OURS] ? 'already-registered' : 'provided-by-backend';
  tf.registerKernel(mark(config));
  return 'registered';
}

/**
 * Whether a kernel runs under (name, backend): one is registered already, or `kernels` has one for the backend,
 * which is registered now (registerIfMissing). For the library's own kernels that ops register on first use.
 */
export function kernelOnFirstUse(kernelName: string, backendName: string, kernels: Readonly<Record<string, tf.KernelFunc>>): boolean {
  if (tf.getKernel(kernelName, backendName)) return true;
  const kernelFunc = kernels[backendName];
  if (!kernelFunc) return false;
  registerIfMissing({ kernelName, backendName, kernelFunc });
  return true;
}

/**
 * Replaces the stock kernel under (name, backend) by `config`. The stock setupFunc/disposeFunc
 * are chained, because the stock kernelFunc (which the replacement may delegate to) depends on
 * them: wasm kernels bind their C++ entry point in setupFunc, which the engine calls on every
 * setBackend.
 */
export function replaceKernel(config: tf.KernelConfig): RegistrationOutcome {
  const { kernelName, backendName } = config;
  const stock = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  if (stock == null) return 'no-stock-kernel';
  if (stock[OURS]) return 'already-registered';
  const replacement = mark({
    ...config,
    setupFunc: chain(stock.setupFunc, config.setupFunc),
    disposeFunc: chain(stock.disposeFunc, config.disposeFunc),
  });
  replacement[STOCK] = stock;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(replacement);
  return 'replaced';
}

/**
 * The kernel tfjs-moco replaced under (name, backend), or the currently registered one when
 * nothing was replaced; undefined when none is registered.
 */
export function getStockKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  const current = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  return current?.[STOCK] ?? current;
}

/**
 * The stock kernel a tfjs-moco replacement delegates to. Throws if there is none, or if what is
 * registered is tfjs-moco's own kernel without a stock one behind it (delegating would recurse).
 */
export function requireStockKernel(kernelName: string, backendName: string): tf.KernelConfig {
  const stock = getStockKernel(kernelName, backendName) as MarkedConfig | undefined;
  if (stock == null || stock[OURS]) {
    throw new Error(`tfjs-moco: stock ${backendName} ${kernelName} kernel not found`);
  }
  return stock;
}

/** Puts the stock kernel back (for benchmarks and A/B tests). Returns false if nothing was replaced. */
export function restoreStockKernel(kernelName: string, backendName: string): boolean {
  const current = tf.getKernel(kernelName, backendName) as MarkedConfig | undefined;
  const stock = current?.[STOCK];
  if (stock == null) return false;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(stock);
  return true;
}

function mark(config: tf.KernelConfig): MarkedConfig {
  const marked: MarkedConfig = { ...config };
  marked[OURS] = true;
  return marked;
}

function chain(
  a: tf.KernelSetupFunc | undefined,
  b: tf.KernelSetupFunc | undefined,
): tf.KernelSetupFunc | undefined {
  if (a == null) return b;
  if (b == null) return a;
  return (backend) => {
    a(backend);
    b(backend);
  };
}
