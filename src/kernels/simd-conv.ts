// Runs the library's SIMD convolution kernels (src/kernels/simd/conv-kernels.as.ts, compiled to
// WebAssembly and embedded in conv-kernels-wasm.ts) on float32 NHWC operands.
//
// The module imports its memory, so the same code runs in two places ("arenas"):
//  - on tfjs-backend-wasm's own Memory (emscripten's Module.asm.memory), where a kernel reads its
//    input tensors where they lie and writes straight into the output tensor, its scratch taken
//    from the backend's malloc and freed after the call (simdHeapArena);
//  - on a Memory of its own (simdConv2D and the other array functions: tests, benchmarks, and the
//    fallback where a tfjs build does not expose its Memory), each call copying its operands in and
//    the result out.
// The copies cost 60 ms of a 460 ms ResNet-18 w16 step at batch 64 (13 %, timed around the calls),
// more with two workers, whose copies compete for the memory bus (two processes each ran a step
// 13-21 % slower than one alone, where a compute-only loop lost nothing).
//
// Operands and scratch are byte offsets into the arena's memory; typed-array views of it are taken
// only after the call's allocations, since growing a Memory detaches its old views (offsets stay
// valid). One own arena and one heap arena per backend, per thread (module state).
import * as tf from '@tensorflow/tfjs-core';
import { CONV_KERNELS_RELAXED_WASM_BASE64, CONV_KERNELS_WASM_BASE64 } from './simd/conv-kernels-wasm.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

// The WebAssembly API as used here (lib "ES2022" and @types/node 20.9 do not declare it).
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}
declare function atob(data: string): string;

export interface ConvKernelExports {
  heapBase(): number;
  packPadded(
    src: number, dst: number, n: number, h: number, w: number, c: number, hp: number, wp: number, cp: number,
    top: number, left: number, r0: number, r1: number, c0: number, c1: number,
  ): void;
  conv2d(
    xp: number, w: number, bias: number, y: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci: number, co8: number,
    fh: number, fw: number, sh: number, sw: number, relu: number,
    yImage: number, yRow: number, yPixel: number, chunk: number, offs: number,
  ): void;
  winogradFilter(w: number, u: number, ci: number, co: number, ci4: number, co8: number, flipSwap: number): void;
  conv2dWinograd(
    xp: number, u: number, bias: number, y: number, v: number, m: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci4: number, co8: number, relu: number, block: number,
  ): void;
  winogradFilter4(w: number, u: number, tmp: number, ci: number, co: number, ci4: number, co8: number, flipSwap: number): void;
  conv2dWinograd4(
    xp: number, u: number, bias: number, y: number, v: number, m: number, tmp: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci4: number, co8: number, relu: number, block: number,
  ): void;
  blend(dst: number, a: number, b: number, n: number, wa: number, wb: number): void;
  groupAffine(y: number, x: number, s: number, t: number, x2: number, s2: number, groups: number, rows: number, c: number): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  conv2dFilterGradWinograd(
    xp: number, dyp: number, dw: number, v: number, w: number, m: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci4: number, co8: number, block: number,
  ): void;
  conv2dFilterGrad(
    xp: number, dyp: number, dw: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci4: number, co8: number,
    fh: number, fw: number, sh: number, sw: number, rowsPerChunk: number,
  ): void;
}

/** base64 → bytes with `atob` (Node >= 16 and browsers), not Node's Buffer: the library also runs in bundles. */
function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Fused multiply-add in the kernels' accumulation loops: 'auto' = the relaxed-SIMD build where this
 * runtime validates it (in Node 20, after turning on V8's --experimental-wasm-relaxed-simd, which
 * that Node ships but leaves off; newer Node and Chrome 114+ have it on), else the mul+add build;
 * 'relaxed' = the relaxed build or an error; 'off' = always mul+add. Results differ between the two
 * builds by the rounding of each product (a few float32 ulps of a sum's magnitude).
 */
export type SimdFma = 'auto' | 'relaxed' | 'off';
export type SimdConvBuild = 'relaxed' | 'mul-add';

const compiled: Partial<Record<SimdConvBuild, WebAssembly.Module | null>> = {};
let fmaMode: SimdFma = 'auto';

/** A function body `f32x4.relaxed_madd(a, b, c)`, the smallest module that needs relaxed SIMD. */
const RELAXED_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b, 3, 2, 1, 0,
  10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b,
]);

interface NodeProcessLike {
  getBuiltinModule?: (id: string) => { setFlagsFromString?: (flags: string) => void } | undefined;
}

/**
 * Whether this runtime validates relaxed SIMD. In Node (20.16+, where process.getBuiltinModule exists)
 * the V8 flag is turned on first if needed: it only affects modules compiled afterwards, which is why
 * the kernels are compiled lazily. Browsers have no such switch; there the probe decides alone.
 */
export function relaxedSimdAvailable(): boolean {
  if (typeof WebAssembly !== 'object') return false;
  if (WebAssembly.validate(RELAXED_PROBE)) return true;
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  try {
    proc?.getBuiltinModule?.('node:v8')?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(RELAXED_PROBE);
}

/** The module of one build, or null where it does not validate (no SIMD, or no relaxed SIMD). */
function compile(build: SimdConvBuild): WebAssembly.Module | null {
  const cached = compiled[build];
  if (cached !== undefined) return cached;
  let m: WebAssembly.Module | null = null;
  if (typeof WebAssembly === 'object' && (build === 'mul-add' || relaxedSimdAvailable())) {
    const bytes = decodeBase64(build === 'relaxed' ? CONV_KERNELS_RELAXED_WASM_BASE64 : CONV_KERNELS_WASM_BASE64);
    m = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  compiled[build] = m;
  return m;
}

/** The build the kernels run now under the current setSimdConvFma mode, or null without SIMD. */
export function simdConvBuild(): SimdConvBuild | null {
  // A runtime without WebAssembly SIMD (Node < 16.4, older browsers) fails validation of both; callers
  // then keep the XNNPACK routes, and wasmConvKernels() (which selectBackend's log line reports) says so.
  if (compile('mul-add') == null) return null;
  if (fmaMode === 'off') return 'mul-add';
  if (compile('relaxed') != null) return 'relaxed';
  if (fmaMode === 'relaxed') {
    throw new Error(
      "tfjs-moco: simdFma 'relaxed' needs WebAssembly relaxed SIMD, which this runtime does not validate " +
        "(Node 20.16+ turns it on by itself; older Node: run with --experimental-wasm-relaxed-simd). Use simdFma 'auto' or 'off'.",
    );
  }
  return 'mul-add';
}

/** Sets which build the next kernel calls run (see SimdFma). Process-wide, like the kernel registry. */
export function setSimdConvFma(mode: SimdFma): void {
  if (mode !== 'auto' && mode !== 'relaxed' && mode !== 'off') {
    throw new Error(`tfjs-moco: simdFma must be 'auto', 'relaxed' or 'off', got '${String(mode)}'`);
  }
  const previous = fmaMode;
  fmaMode = mode;
  try {
    simdConvBuild(); // fails now, at configuration, if 'relaxed' cannot be had
  } catch (err) {
    fmaMode = previous;
    throw err;
  }
}

/** The compiled module of the build in use, or null where WebAssembly SIMD does not validate. */
function module(): WebAssembly.Module | null {
  const build = simdConvBuild();
  return build && compile(build);
}

function instantiate(m: WebAssembly.Module, memory: WebAssembly.Memory): ConvKernelExports {
  const abort = (): never => {
    throw new Error('tfjs-moco: SIMD conv kernel aborted');
  };
  return new WebAssembly.Instance(m, { env: { memory, abort } }).exports as unknown as ConvKernelExports;
}

/** Whether this runtime can run the SIMD kernels (WebAssembly with SIMD). */
export function simdConvAvailable(): boolean {
  return module() != null;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;
const ALIGN = 64;

/** Where one call's operands and scratch live: byte offsets into `memory`, which `k` runs on. */
export interface ConvArena {
  readonly k: ConvKernelExports;
  readonly memory: WebAssembly.Memory;
  /** Scratch buffers of floats[i] floats each, 64-byte aligned: their byte offsets. May grow the memory. */
  reserve(floats: number[]): number[];
  /** Frees what reserve() gave since the last release. */
  release(): void;
}

/** Lays buffers out above the module's (empty) static data, growing the memory to fit. */
class OwnArena implements ConvArena {
  private readonly base: number;
  private top: number;

  constructor(
    readonly k: ConvKernelExports,
    readonly memory: WebAssembly.Memory,
  ) {
    // Never offset 0: a zero bias offset means "no bias" to the kernels.
    this.base = roundUp(Math.max(k.heapBase(), 1), ALIGN);
    this.top = this.base;
  }

  reserve(floats: number[]): number[] {
    let at = this.top;
    const offsets = floats.map((n) => {
      const offset = at;
      at = roundUp(at + n * 4, ALIGN);
      return offset;
    });
    const have = this.memory.buffer.byteLength;
    if (at > have) {
      try {
        this.memory.grow(Math.ceil((at - have) / 65536));
      } catch (err) {
        throw memoryError(at, err);
      }
    }
    this.top = at;
    return offsets;
  }

  release(): void {
    this.top = this.base;
  }
}

function memoryError(bytes: number, err: unknown): Error {
  return new Error(
    `tfjs-moco: a SIMD conv call needs ${(bytes / 2 ** 20).toFixed(0)} MiB of WebAssembly memory and the runtime refused ` +
      `(${err instanceof Error ? err.message : String(err)}; wasm32 memory stops at 4 GiB). Train with a smaller batch ` +
      `or the fit option microBatch, or call registerWasmTrainingKernels({ convKernels: 'xnnpack' }).`,
  );
}

/** The part of tfjs-backend-wasm's emscripten module the heap arena uses. */
interface EmscriptenModuleLike {
  asm?: { memory?: unknown };
  _malloc?: (bytes: number) => number;
  _free?: (ptr: number) => void;
}

const heapStats = { live: 0, taken: 0 };

/** Scratch from the backend's own malloc, one block per reserve(), all freed by release(). */
class HeapArena implements ConvArena {
  private blocks: number[] = [];

  constructor(
    readonly k: ConvKernelExports,
    readonly memory: WebAssembly.Memory,
    private readonly malloc: (bytes: number) => number,
    private readonly free: (ptr: number) => void,
  ) {}

  reserve(floats: number[]): number[] {
    const sizes = floats.map((n) => roundUp(n * 4, ALIGN));
    const total = sizes.reduce((a, b) => a + b, 0) + ALIGN;
    let block = 0;
    try {
      block = this.malloc(total);
    } catch (err) {
      throw memoryError(this.memory.buffer.byteLength + total, err);
    }
    if (!block) throw memoryError(this.memory.buffer.byteLength + total, new Error('malloc returned 0'));
    this.blocks.push(block);
    heapStats.live++;
    heapStats.taken++;
    let at = roundUp(block, ALIGN);
    return sizes.map((size) => {
      const offset = at;
      at += size;
      return offset;
    });
  }

  release(): void {
    for (const b of this.blocks) this.free(b);
    heapStats.live -= this.blocks.length;
    this.blocks = [];
  }
}

// Arenas per build: switching builds (setSimdConvFma) keeps the other build's instances, so nothing is
// re-instantiated when a test or benchmark alternates them.
const owns: Partial<Record<SimdConvBuild, OwnArena | null>> = {};
let own: OwnArena | null = null; // the last own arena made, for simdConvMemoryBytes
const heapArenas: Record<SimdConvBuild, WeakMap<object, HeapArena | null>> = { relaxed: new WeakMap(), 'mul-add': new WeakMap() };

function ownArena(): OwnArena {
  const build = simdConvBuild();
  if (build == null) throw new Error('tfjs-moco: WebAssembly SIMD is not available in this runtime');
  let arena = owns[build];
  if (arena === undefined) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    arena = new OwnArena(instantiate(compile(build)!, memory), memory);
    owns[build] = arena;
  }
  if (arena == null) throw new Error('tfjs-moco: WebAssembly SIMD is not available in this runtime');
  own = arena;
  return arena;
}

/**
 * The arena on tfjs-backend-wasm's own memory (`wasmModule`: the backend's emscripten module,
 * BackendWasm.wasm), or null where this build does not expose its Memory, malloc and free.
 */
export function simdHeapArena(wasmModule: unknown): ConvArena | null {
  if (wasmModule == null || typeof wasmModule !== 'object') return null;
  const build = simdConvBuild();
  if (build == null) return null;
  let arena = heapArenas[build].get(wasmModule);
  if (arena === undefined) {
    const em = wasmModule as EmscriptenModuleLike;
    const memory = em.asm?.memory;
    const m = compile(build);
    arena =
      m && memory instanceof (globalThis as unknown as { WebAssembly: { Memory: typeof WebAssembly.Memory } }).WebAssembly.Memory &&
      typeof em._malloc === 'function' && typeof em._free === 'function'
        ? new HeapArena(instantiate(m, memory as WebAssembly.Memory), memory as WebAssembly.Memory, em._malloc, em._free)
        : null;
    heapArenas[build].set(wasmModule, arena);
  }
  return arena;
}

/** Bytes of the own arena's memory (0 before its first call): it grows to the largest call and stays. */
export function simdConvMemoryBytes(): number {
  return own ? own.memory.buffer.byteLength : 0;
}

/** Scratch blocks taken from tfjs-backend-wasm's heap: not freed yet (0 between calls) and ever (for tests). */
export function simdHeapScratch(): { live: number; taken: number } {
  return { ...heapStats };
}

/** A float32 view of `floats` floats at byte offset `at` (take it after the call's allocations). */
function view(a: ConvArena, at: number, floats: number): Float32Array {
  return new Float32Array(a.memory.buffer, at, floats);
}

/** The geometry both kernels share: the input zero-padded to exactly the window the output reads. */
interface PaddedInput {
  hp: number;
  wp: number;
  top: number;
  left: number;
}

function paddedInput(info: Conv2DInfo): PaddedInput {
  return {
    hp: (info.outHeight - 1) * info.strideHeight + info.filterHeight,
    wp: (info.outWidth - 1) * info.strideWidth + info.filterWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * Packs x [N,H,W,C] (at byte offset `src`) into [N,hp,wp,cp] at `dst`, with x[n,h,w,c] at
 * [n, h+top, w+left, c] and zeros elsewhere (the module's packPadded). Rows and columns that land
 * outside (a negative pad: input the conv never reads) are dropped.
 */
function packInput(a: ConvArena, src: number, shape: number[], g: PaddedInput, cp: number, dst: number): void {
  const [n, h, w, c] = shape;
  const r0 = Math.max(0, -g.top);
  const r1 = Math.min(h, g.hp - g.top);
  const c0 = Math.max(0, -g.left);
  const c1 = Math.min(w, g.wp - g.left);
  if (r1 <= r0 || c1 <= c0) {
    view(a, dst, n * g.hp * g.wp * cp).fill(0); // the window reads no input at all
    return;
  }
  a.k.packPadded(src, dst, n, h, w, c, g.hp, g.wp, cp, g.top, g.left, r0, r1, c0, c1);
}

/** Copies rows of `width` values into rows of `stride` (>= width) values, the padding zeroed. */
function spreadRows(src: Float32Array, rows: number, width: number, stride: number, dst: Float32Array): void {
  if (width === stride) {
    dst.set(src.subarray(0, rows * width));
    return;
  }
  dst.fill(0, 0, rows * stride);
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * width, r * width + width), r * stride);
}

/** The inverse of spreadRows, in place: rows of `stride` values compacted to rows of `width`. */
function compactRows(buf: Float32Array, rows: number, width: number, stride: number): Float32Array {
  if (width !== stride) for (let r = 1; r < rows; r++) buf.copyWithin(r * width, r * stride, r * stride + width);
  return buf.subarray(0, rows * width);
}

/** Rows of `stride` floats at `from` compacted into rows of `width` floats at `to` (to <= from, or apart). */
function compactInto(a: ConvArena, from: number, to: number, rows: number, width: number, stride: number): void {
  const all = new Float32Array(a.memory.buffer);
  const f = from / 4;
  const t = to / 4;
  for (let r = 0; r < rows; r++) all.copyWithin(t + r * width, f + r * stride, f + r * stride + width);
}

/**
 * The direct loop's pixels per chunk: as many as have 16,384 window floats (64 KB) between them,
 * in multiples of 4 (112 at 3x3x16, 28 at 3x3x64). Per query pass of the small encoder at batch 64,
 * budgets of 8,192 and 32,768 floats ran alike (0.858 and 0.855 of the row-tiled loop's time).
 */
export function directChunk(windowFloats: number): number {
  return Math.max(4, Math.floor(16384 / windowFloats / 4) * 4);
}

export interface SimdConvOptions {
  /** [outChannels] added to every output pixel, or none. */
  bias?: Float32Array;
  /** Clamp the output at zero (a fused ReLU). */
  relu?: boolean;
}

/** Winograd tiles per block: their transforms stay in L1/L2 (measured best of 32/64/128). */
const WINOGRAD_BLOCK = 32;
/** Below this many input channels the transforms cost more than the saved products (measured at 16: 1.3x). */
const WINOGRAD_MIN_CHANNELS = 16;

/** F(4x4,3x3) tiles per block (v and m [36][block][channels]). */
const WINOGRAD4_BLOCK = 32;
/**
 * The fewest input channels that take F(4x4,3x3). Per call at batch 64 against F(2x2,3x3) (best of
 * alternating runs, bench/kernels.ts): 16x16x32 5.5 / 5.5 ms (no gain), 8x8x64 4.7 / 3.9,
 * 4x4x128 4.7 / 4.0, 32x32x64 64 / 55, 16x16x128 58 / 41, 8x8x256 57 / 41, 4x4x512 72 / 56.
 */
const WINOGRAD4_MIN_CHANNELS = 64;

/**
 * The padded input of a Winograd form with `tile` x `tile` output tiles (2 or 4): every tile reads
 * a (tile + 2)-square patch, so the padding covers ceil(O/tile) tiles each way.
 */
function winogradPadding(info: Conv2DInfo, tile: 2 | 4): PaddedInput {
  return {
    hp: tile * Math.ceil(info.outHeight / tile) + 2,
    wp: tile * Math.ceil(info.outWidth / tile) + 2,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * How simdConv2D computes a conv: 'winograd4' = F(4x4,3x3) (3x3, stride 1, 64+ input channels),
 * 'winograd' = F(2x2,3x3) (3x3, stride 1, 16-63 input channels), else 'direct'. The filter
 * gradient takes F(2x2,3x3) on both Winograd routes.
 */
export function simdConvRoute(info: Conv2DInfo): 'winograd4' | 'winograd' | 'direct' {
  const winograd = info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.inChannels >= WINOGRAD_MIN_CHANNELS;
  if (!winograd) return 'direct';
  return info.inChannels >= WINOGRAD4_MIN_CHANNELS ? 'winograd4' : 'winograd';
}

/**
 * The forward convolution (dilation 1, NHWC) of x [N,H,W,CI] at `x` with the filter [fh,fw,ci,co]
 * at `filter` (with `flipSwap`: [fh,fw,co,ci], the filter of the layer whose input gradient this
 * conv computes, used flipped in both spatial axes with its channel axes swapped), plus the bias
 * [co] at `bias` (or none), into [N,OH,OW,CO] at `out`. Offsets in `a.memory`; allocates scratch
 * in `a` (the caller releases it).
 */
export function simdConv2DAt(
  a: ConvArena, x: number, filter: number, bias: number | undefined, out: number, info: Conv2DInfo,
  options: { relu?: boolean; flipSwap?: boolean } = {},
): void {
  const k = a.k;
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const co8 = roundUp(co, 8);
  // At widths that are multiples of 8 the kernels write the output, and read filter and bias, in place.
  const dense = co === co8;
  const shape = [n, info.inHeight, info.inWidth, ci];
  const relu = options.relu ? 1 : 0;
  const flipSwap = options.flipSwap ?? false;
  let y: number;
  const route = simdConvRoute(info);
  if (route === 'winograd4') {
    const ci4 = roundUp(ci, 4);
    const g = winogradPadding(info, 4);
    const [xp, up, bp, vp, mp, tp, yp] = a.reserve([
      n * g.hp * g.wp * ci4, 36 * ci4 * co8, dense ? 0 : co8, 36 * WINOGRAD4_BLOCK * ci4, 36 * WINOGRAD4_BLOCK * co8, 160,
      dense ? 0 : n * oh * ow * co8,
    ]);
    packInput(a, x, shape, g, ci4, xp);
    k.winogradFilter4(filter, up, tp, ci, co, ci4, co8, flipSwap ? 1 : 0);
    y = dense ? out : yp;
    k.conv2dWinograd4(xp, up, biasAt(a, bias, co, co8, bp), y, vp, mp, tp, n, oh, ow, g.hp, g.wp, ci4, co8, relu, WINOGRAD4_BLOCK);
  } else if (route === 'winograd') {
    const ci4 = roundUp(ci, 4);
    const g = winogradPadding(info, 2);
    const [xp, up, bp, vp, mp, yp] = a.reserve([
      n * g.hp * g.wp * ci4, 16 * ci4 * co8, dense ? 0 : co8, 16 * WINOGRAD_BLOCK * ci4, 16 * WINOGRAD_BLOCK * co8,
      dense ? 0 : n * oh * ow * co8,
    ]);
    packInput(a, x, shape, g, ci4, xp);
    k.winogradFilter(filter, up, ci, co, ci4, co8, flipSwap ? 1 : 0);
    y = dense ? out : yp;
    k.conv2dWinograd(xp, up, biasAt(a, bias, co, co8, bp), y, vp, mp, n, oh, ow, g.hp, g.wp, ci4, co8, relu, WINOGRAD_BLOCK);
  } else {
    const g = paddedInput(info);
    const ownFilter = flipSwap || !dense;
    const chunk = directChunk(fh * fw * ci);
    const [xp, wp, bp, yp, op] = a.reserve([n * g.hp * g.wp * ci, ownFilter ? fh * fw * ci * co8 : 0, dense ? 0 : co8, dense ? 0 : n * oh * ow * co8, 2 * chunk]);
    packInput(a, x, shape, g, ci, xp);
    if (ownFilter) {
      const f = view(a, filter, fh * fw * ci * co);
      spreadRows(flipSwap ? flippedSwapped(f, fh * fw, co, ci) : f, fh * fw * ci, co, co8, view(a, wp, fh * fw * ci * co8));
    }
    y = dense ? out : yp;
    k.conv2d(xp, ownFilter ? wp : filter, biasAt(a, bias, co, co8, bp), y, n, oh, ow, g.hp, g.wp, ci, co8, fh, fw, sh, sw, relu,
      oh * ow * co8 * 4, ow * co8 * 4, co8 * 4, chunk, op);
  }
  if (!dense) compactInto(a, y, out, n * oh * ow, co, co8);
}

/** The bias for a kernel: none (0), in place, or spread to co8 values at `scratch`. */
function biasAt(a: ConvArena, bias: number | undefined, co: number, co8: number, scratch: number): number {
  if (bias === undefined) return 0;
  if (co === co8) return bias;
  spreadRows(view(a, bias, co), 1, co, co8, view(a, scratch, co8));
  return scratch;
}

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh - top + kh, ow*sw - left + kw, ci] * dy[n,oh,ow,co]
 * (dilation 1, NHWC): x at `x`, dy at `dy`, [fh,fw,ci,co] written at `out`.
 */
export function simdConv2DBackpropFilterAt(a: ConvArena, x: number, dy: number, out: number, info: Conv2DInfo): void {
  const k = a.k;
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const ci4 = roundUp(ci, 4);
  const co8 = roundUp(co, 8);
  const denseDy = co === co8;
  const dense = denseDy && ci === ci4;
  const shape = [n, info.inHeight, info.inWidth, ci];
  const winograd = simdConvRoute(info) !== 'direct';
  const g = winograd ? winogradPadding(info, 2) : paddedInput(info);
  const [xp, dyp, dwp, vp, wp, mp] = a.reserve([
    n * g.hp * g.wp * ci4, denseDy ? 0 : n * oh * ow * co8, dense ? 0 : fh * fw * ci4 * co8,
    ...(winograd ? [16 * WINOGRAD_BLOCK * ci4, 16 * WINOGRAD_BLOCK * co8, 16 * ci4 * co8] : []),
  ]);
  packInput(a, x, shape, g, ci4, xp);
  if (!denseDy) spreadRows(view(a, dy, n * oh * ow * co), n * oh * ow, co, co8, view(a, dyp, n * oh * ow * co8));
  const dyAt = denseDy ? dy : dyp;
  const dw = dense ? out : dwp;
  if (winograd) {
    k.conv2dFilterGradWinograd(xp, dyAt, dw, vp, wp, mp, n, oh, ow, g.hp, g.wp, ci4, co8, WINOGRAD_BLOCK);
  } else {
    // About 64 output pixels per chunk: enough work per register tile to amortize loading and
    // storing its accumulators, while the chunk's rows stay in L1/L2 (measured: 33-41 GFLOP/s
    // from 4x4x128 to 32x32x16 layers).
    const rowsPerChunk = Math.max(1, Math.ceil(64 / ow));
    k.conv2dFilterGrad(xp, dyAt, dw, n, oh, ow, g.hp, g.wp, ci4, co8, fh, fw, sh, sw, rowsPerChunk);
  }
  if (!dense) {
    // [fh,fw,ci4,co8] -> [fh,fw,ci,co]: drop the padded output channels of every row, then the
    // padded input channels of every tap, then copy out.
    const packed = compactRows(view(a, dwp, fh * fw * ci4 * co8), fh * fw * ci4, co, co8);
    view(a, out, fh * fw * ci * co).set(compactRows(packed, fh * fw, ci * co, ci4 * co));
  }
}

/**
 * A stride-1 layer's input gradient as a forward conv: dy, padded by fh-1-top rows above and
 * H-OH+top below (fh-1-bottom; likewise for columns), correlated with the flipped filter whose
 * channel axes are swapped, gives dx [N,H,W,CI]. As a forward conv it takes the forward's routes, Winograd for
 * 3x3 layers. null for strided layers (phases) and for pads wider than the filter, where a pad of
 * the gradient conv would be negative.
 */
function backpropInputAsForward(info: Conv2DInfo): Conv2DInfo | null {
  const { filterHeight: fh, filterWidth: fw, padInfo: p } = info;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  // The far pads follow from the sizes, not from padInfo's bottom/right: with a numeric pad and a
  // non-square filter tfjs 4.22 sizes the output from the filter's height alone.
  const pads = [fh - 1 - p.top, info.inHeight - info.outHeight + p.top, fw - 1 - p.left, info.inWidth - info.outWidth + p.left];
  if (pads.some((v) => v < 0)) return null;
  return tf.backend_util.computeConv2DInfo(
    [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
    [fh, fw, info.outChannels, info.inChannels],
    1, 1, [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]],
  );
}

/** How simdConv2DBackpropInput computes a layer: as a forward conv by 'winograd' or 'direct', or by 'phases'. */
export function simdBackpropInputRoute(info: Conv2DInfo): 'winograd4' | 'winograd' | 'direct' | 'phases' {
  const forward = backpropInputAsForward(info);
  return forward ? simdConvRoute(forward) : 'phases';
}

/**
 * A filter [taps,ci,co] flipped in both spatial axes (its taps reversed), its channel axes swapped:
 * [taps,co,ci]. For the direct route's small filters; the Winograd route reads the filter flipped
 * inside the module (winogradFilter), where tfjs-backend-wasm's Reverse + Transpose had taken
 * 5 + 1.8 ms for a 3x3x128x128 filter (96 + 32 ms at 512 channels).
 */
function flippedSwapped(filter: Float32Array, taps: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(filter.length);
  for (let t = 0; t < taps; t++) {
    const src = (taps - 1 - t) * ci * co;
    const dst = t * co * ci;
    for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) out[dst + o * ci + i] = filter[src + i * co + o];
  }
  return out;
}

/** One output phase of a strided input gradient along one axis (see simdConv2DBackpropInput). */
interface Phase {
  /** Input rows (or columns) of this phase: p, p+s, p+2s, ... below the input size. */
  count: number;
  /** Filter taps r, r+s, ... that reach them, and how many. */
  first: number;
  taps: number;
  /** The correlation's top pad: output i reads gradient rows i - pad ... i - pad + taps - 1. */
  pad: number;
}

function phasesOf(size: number, filter: number, stride: number, before: number): Phase[] {
  const phases: Phase[] = [];
  for (let p = 0; p < stride; p++) {
    const count = p < size ? Math.ceil((size - p) / stride) : 0;
    const first = (p + before) % stride;
    const taps = first < filter ? Math.ceil((filter - first) / stride) : 0;
    const q = (p + before - first) / stride;
    phases.push({ count, first, taps, pad: taps - 1 - q });
  }
  return phases;
}

/**
 * dx[n,h,w,ci] = sum_{kh,kw,co} dy[n, (h + top - kh)/sh, (w + left - kw)/sw, co] * w[kh,kw,ci,co]
 * over the terms where both divisions are exact and in range (dilation 1, NHWC), dy at `dy`, the
 * filter at `filter`, [N,H,W,CI] written at `out`. Stride 1: a forward conv of the flipped filter
 * (backpropInputAsForward). Strided, without inserting zeros: input rows h = sh*i + p (one phase p
 * per residue) are reached only by the taps kh = r, r + sh, ... with r = (p + top) mod sh, so each
 * of the sh*sw phases is a stride-1 correlation of dy with a sub-filter of those taps (flipped, its
 * channel axes swapped), written by conv2d straight into every sh-th row and sw-th column of dx.
 */
export function simdConv2DBackpropInputAt(a: ConvArena, dy: number, filter: number, out: number, info: Conv2DInfo): void {
  const forward = backpropInputAsForward(info);
  if (forward) return simdConv2DAt(a, dy, filter, undefined, out, forward, { flipSwap: true });
  const k = a.k;
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const rows = phasesOf(h, fh, sh, info.padInfo.top);
  const cols = phasesOf(w, fw, sw, info.padInfo.left);
  // One packed copy of dy serves every phase: padded by the largest top/left pad, long enough for
  // the last window of every phase; each phase starts at its own offset into it.
  const top = Math.max(0, ...rows.map((r) => r.pad));
  const left = Math.max(0, ...cols.map((c) => c.pad));
  const hp = Math.max(oh + top, ...rows.map((r) => top - r.pad + r.count - 1 + r.taps));
  const wp = Math.max(ow + left, ...cols.map((c) => left - c.pad + c.count - 1 + c.taps));
  const ci8 = roundUp(ci, 8);
  const dense = ci === ci8;
  const maxTaps = Math.max(...rows.map((r) => r.taps)) * Math.max(...cols.map((c) => c.taps));
  const chunk = directChunk(maxTaps * co);
  const [xp, fp, yp, op] = a.reserve([n * hp * wp * co, maxTaps * co * ci8, dense ? 0 : n * h * w * ci8, 2 * chunk]);
  packInput(a, dy, [n, oh, ow, co], { hp, wp, top, left }, co, xp);
  const y = dense ? out : yp;
  // Phases no tap reaches (a filter smaller than the stride) stay zero.
  view(a, y, n * h * w * ci8).fill(0);
  const f = view(a, filter, fh * fw * ci * co);
  const sub = view(a, fp, maxTaps * co * ci8);
  for (const [ph, r] of rows.entries()) {
    for (const [pw, c] of cols.entries()) {
      if (r.count === 0 || c.count === 0 || r.taps === 0 || c.taps === 0) continue;
      // sub[j][l][o][i] = w[r.first + sh*(r.taps-1-j)][c.first + sw*(c.taps-1-l)][i][o]
      sub.fill(0);
      for (let j = 0; j < r.taps; j++) {
        for (let l = 0; l < c.taps; l++) {
          const kh = r.first + sh * (r.taps - 1 - j);
          const kw = c.first + sw * (c.taps - 1 - l);
          for (let i = 0; i < ci; i++) {
            for (let o = 0; o < co; o++) sub[((j * c.taps + l) * co + o) * ci8 + i] = f[((kh * fw + kw) * ci + i) * co + o];
          }
        }
      }
      const start = xp + ((top - r.pad) * wp + (left - c.pad)) * co * 4;
      k.conv2d(start, fp, 0, y + (ph * w + pw) * ci8 * 4, n, r.count, c.count, hp, wp, co, ci8, r.taps, c.taps, 1, 1, 0,
        h * w * ci8 * 4, sh * w * ci8 * 4, sw * ci8 * 4, chunk, op);
    }
  }
  if (!dense) compactInto(a, yp, out, n * h * w, ci, ci8);
}

/**
 * q·Kᵀ ([n,d] · [m,d]ᵀ → [n,m]) at `out`, q at `q` and K at `keys`: the conv loop computes the product
 * transposed, K·qᵀ = [m,n] (K as m pixels of d channels, q as a 1x1 filter of d inputs and n outputs), in
 * scratch, which transpose2d then writes to `out`. Allocates scratch in `a` (the caller releases it).
 */
export function simdSimilarityToKeysAt(a: ConvArena, q: number, keys: number, out: number, n: number, m: number, d: number): void {
  const info = tf.backend_util.computeConv2DInfo([1, m, 1, d], [1, 1, d, n], 1, 1, 'valid');
  const [scores] = a.reserve([m * n]);
  simdConv2DAt(a, keys, q, undefined, scores, info, { flipSwap: true });
  a.k.transpose2d(scores, out, m, n);
}

/**
 * Runs `run` in the own arena on operands given as arrays (undefined: none): copies them in and
 * returns the output of `outFloats` floats as a view into the arena's memory, valid until the
 * next call (copy it out). For tests, benchmarks and tfjs builds without a reachable Memory.
 */
export function simdRunOnArrays(
  inputs: (Float32Array | undefined)[],
  outFloats: number,
  run: (a: ConvArena, at: (number | undefined)[], out: number) => void,
): Float32Array {
  const a = ownArena();
  try {
    const [out, ...at] = a.reserve([outFloats, ...inputs.map((x) => x?.length ?? 0)]);
    inputs.forEach((x, i) => x && view(a, at[i], x.length).set(x));
    run(a, inputs.map((x, i) => (x ? at[i] : undefined)), out);
    return view(a, out, outFloats);
  } finally {
    a.release();
  }
}

/** simdConv2DAt on arrays: returns [N,OH,OW,CO] as a view into the kernels' memory, valid until the next call. */
export function simdConv2D(x: Float32Array, filter: Float32Array, info: Conv2DInfo, options: SimdConvOptions = {}): Float32Array {
  return simdRunOnArrays([x, filter, options.bias], tf.util.sizeFromShape(info.outShape), (a, [xa, fa, ba], out) =>
    simdConv2DAt(a, xa!, fa!, ba, out, info, { relu: options.relu }));
}

/** simdConv2DBackpropFilterAt on arrays: returns [fh,fw,ci,co] as a view, valid until the next call. */
export function simdConv2DBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  return simdRunOnArrays([x, dy], info.filterHeight * info.filterWidth * info.inChannels * info.outChannels, (a, [xa, dya], out) =>
    simdConv2DBackpropFilterAt(a, xa!, dya!, out, info));
}

/** simdConv2DBackpropInputAt on arrays: returns [N,H,W,CI] as a view, valid until the next call. */
export function simdConv2DBackpropInput(dy: Float32Array, filter: Float32Array, info: Conv2DInfo): Float32Array {
  return simdRunOnArrays([dy, filter], info.batchSize * info.inHeight * info.inWidth * info.inChannels, (a, [dya, fa], out) =>
    simdConv2DBackpropInputAt(a, dya!, fa!, out, info));
}
