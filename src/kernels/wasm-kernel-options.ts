// How the wasm training kernels run, set by registerWasmTrainingKernels(options). The kernels are registered
// once per process in tfjs's global kernel registry, so the configuration they read is process-wide too; it
// is changed only through an options object passed to registration, never by separate switches.
import type { SimdFma } from './simd-conv.js';

/**
 * Which loops run the wasm forward conv and filter gradient: 'simd' = the library's own
 * (simd-conv.ts; used where WebAssembly SIMD validates), 'xnnpack' = tfjs-backend-wasm's
 * Conv2D/FusedConv2D and the filter gradient phrased as an XNNPACK conv.
 */
export type WasmConvKernels = 'simd' | 'xnnpack';

/**
 * Which Conv2DBackpropInput runs on wasm: 'auto' = with the SIMD loops, simdConv2DBackpropInput
 * for every layer (strided layers by phases, stride-1 layers as a forward conv of the flipped
 * filter); with XNNPACK, the conv formulation (strided layers in sub-pixel form) where measured
 * faster (see shouldUseConvBackpropInput). 'conv' = always the conv formulation with tfjs ops,
 * 'subpixel' = sub-pixel form where it applies, 'phases' = simdConv2DBackpropInput (needs the
 * SIMD loops), 'stock' = always wasm's own scalar loop.
 */
export type BackpropInputPolicy = 'auto' | 'conv' | 'subpixel' | 'phases' | 'stock';

/**
 * Options of registerWasmTrainingKernels. Every call sets the whole configuration: a field left out
 * takes its default, so `registerWasmTrainingKernels()` restores the defaults.
 *
 * @example
 * registerWasmTrainingKernels({ convKernels: 'xnnpack' }); // compare against XNNPACK's convolutions
 */
export interface WasmTrainingKernelsArgs {
  /** The conv loops (see WasmConvKernels). Default: 'simd' (falls back to 'xnnpack' where SIMD does not validate). */
  convKernels?: WasmConvKernels;
  /**
   * Run the SIMD kernels on the wasm backend's own memory (read operands in place, write into the output).
   * false copies operands into the kernels' own memory and results back, as on a tfjs build whose Memory
   * is not reachable. Default: true.
   */
  simdInPlace?: boolean;
  /** How the replaced Conv2DBackpropInput dispatches (see BackpropInputPolicy). Default: 'auto'. */
  backpropInputPolicy?: BackpropInputPolicy;
  /**
   * Fused multiply-add in the SIMD loops (WebAssembly relaxed SIMD, f32x4.relaxed_madd): 'auto' uses it
   * where the runtime has it (Chrome 114+, Node 22+; in Node 20.16+ the library turns on V8's
   * --experimental-wasm-relaxed-simd flag for its process first), 'relaxed' requires it, 'off' keeps
   * the portable mul+add loops. Products are then rounded once instead of twice, so results differ from
   * 'off' in the last bits. Default: 'auto'.
   */
  simdFma?: SimdFma;
}

/** The defaults of WasmTrainingKernelsArgs. */
export const WASM_TRAINING_KERNELS_DEFAULTS: Readonly<Required<WasmTrainingKernelsArgs>> = Object.freeze({
  convKernels: 'simd',
  simdInPlace: true,
  backpropInputPolicy: 'auto',
  simdFma: 'auto',
});

const CONV_KERNELS: readonly WasmConvKernels[] = ['simd', 'xnnpack'];
const POLICIES: readonly BackpropInputPolicy[] = ['auto', 'conv', 'subpixel', 'phases', 'stock'];
const FMA: readonly SimdFma[] = ['auto', 'relaxed', 'off'];

let current: Required<WasmTrainingKernelsArgs> = { ...WASM_TRAINING_KERNELS_DEFAULTS };

/** The configuration the wasm training kernels run with now. */
export function wasmTrainingKernelsConfig(): Readonly<Required<WasmTrainingKernelsArgs>> {
  return current;
}

/** Validates and applies options (omitted fields take their defaults); called by registerWasmTrainingKernels. */
export function applyWasmTrainingKernelsArgs(args: WasmTrainingKernelsArgs = {}): void {
  const next = { ...WASM_TRAINING_KERNELS_DEFAULTS, ...stripUndefined(args) };
  if (!CONV_KERNELS.includes(next.convKernels)) {
    throw new Error(`tfjs-moco: registerWasmTrainingKernels: convKernels must be one of ${CONV_KERNELS.join(', ')}, got '${String(next.convKernels)}'`);
  }
  if (typeof next.simdInPlace !== 'boolean') {
    throw new Error(`tfjs-moco: registerWasmTrainingKernels: simdInPlace must be true or false, got '${String(next.simdInPlace)}'`);
  }
  if (!POLICIES.includes(next.backpropInputPolicy)) {
    throw new Error(
      `tfjs-moco: registerWasmTrainingKernels: backpropInputPolicy must be one of ${POLICIES.join(', ')}, got '${String(next.backpropInputPolicy)}'`,
    );
  }
  if (!FMA.includes(next.simdFma)) {
    throw new Error(`tfjs-moco: registerWasmTrainingKernels: simdFma must be one of ${FMA.join(', ')}, got '${String(next.simdFma)}'`);
  }
  current = next;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
