// Runs the library's SIMD convolution kernels (src/backend/simd/conv-kernels.as.ts, compiled to
// WebAssembly and embedded in conv-kernels-wasm.ts) on float32 NHWC arrays.
//
// The kernels live in their own small WebAssembly instance with its own memory, not inside
// tfjs-backend-wasm's: that package exposes its Memory only through emscripten internals of one
// build, so the library does not rely on it. Each call copies its operands in (one bulk copy, then
// packed into the kernels' zero-padded layout inside wasm, which a shared memory would need
// anyway) and the result out: O(activations) of copying against O(activations x 9 x channels) of
// arithmetic, about 10 % of a call at CIFAR ResNet-18 sizes (`npx tsx bench/kernels.ts`).
//
// One instance per thread (module state), reused by every call; its memory grows to the largest
// call seen and is kept (WebAssembly memory cannot shrink).
import * as tf from '@tensorflow/tfjs-core';
import { CONV_KERNELS_WASM_BASE64 } from './simd/conv-kernels-wasm.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

// The WebAssembly API as used here (lib "ES2022" and @types/node 20.9 do not declare it).
declare namespace WebAssembly {
  interface Memory {
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

interface ConvKernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  packPadded(
    src: number, dst: number, n: number, h: number, w: number, c: number, hp: number, wp: number, cp: number,
    top: number, left: number, r0: number, r1: number, c0: number, c1: number,
  ): void;
  conv2d(
    xp: number, w: number, bias: number, y: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci: number, co8: number,
    fh: number, fw: number, sh: number, sw: number, relu: number,
    yImage: number, yRow: number, yPixel: number,
  ): void;
  winogradFilter(w: number, u: number, ci: number, co: number, ci4: number, co8: number, flipSwap: number): void;
  conv2dWinograd(
    xp: number, u: number, bias: number, y: number, v: number, m: number,
    n: number, oh: number, ow: number, hp: number, wp: number, ci4: number, co8: number, relu: number, block: number,
  ): void;
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

let instance: ConvKernelExports | null | undefined;

/** base64 → bytes with `atob` (Node >= 16 and browsers), not Node's Buffer: the library also runs in bundles. */
function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function kernels(): ConvKernelExports | null {
  if (instance !== undefined) return instance;
  const bytes = decodeBase64(CONV_KERNELS_WASM_BASE64);
  // A runtime without WebAssembly SIMD (Node < 16.4, older browsers) fails validation; callers then
  // keep the XNNPACK routes, and wasmConvKernels() (which selectBackend's log line reports) says so.
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) {
    instance = null;
    return null;
  }
  const module = new WebAssembly.Module(bytes);
  const abort = (): never => {
    throw new Error('tfjs-moco: SIMD conv kernel aborted');
  };
  instance = new WebAssembly.Instance(module, { env: { abort } }).exports as unknown as ConvKernelExports;
  return instance;
}

function requireKernels(): ConvKernelExports {
  const k = kernels();
  if (k == null) throw new Error('tfjs-moco: WebAssembly SIMD is not available in this runtime');
  return k;
}

/** Whether this runtime can run the SIMD kernels (WebAssembly with SIMD). */
export function simdConvAvailable(): boolean {
  return kernels() != null;
}

/** Bytes of the kernels' own WebAssembly memory (0 before the first call): it grows to the largest call and stays. */
export function simdConvMemoryBytes(): number {
  return instance ? instance.memory.buffer.byteLength : 0;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;
const ALIGN = 64;

/** Lays buffers out above the kernels' static data and grows the memory to fit them. */
function allocate(k: ConvKernelExports, floats: number[]): number[] {
  let at = roundUp(k.heapBase(), ALIGN);
  const offsets = floats.map((n) => {
    const offset = at;
    at = roundUp(at + n * 4, ALIGN);
    return offset;
  });
  const have = k.memory.buffer.byteLength;
  if (at > have) {
    try {
      k.memory.grow(Math.ceil((at - have) / 65536));
    } catch (err) {
      throw new Error(
        `tfjs-moco: a SIMD conv call needs ${(at / 2 ** 20).toFixed(0)} MiB of WebAssembly memory and the runtime refused ` +
          `(${err instanceof Error ? err.message : String(err)}; wasm32 memory stops at 4 GiB). Train with a smaller batch ` +
          `or the fit option microBatch, or call setWasmConvKernels('xnnpack').`,
      );
    }
  }
  return offsets;
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
 * Copies x [N,H,W,C] into the kernels' memory at `dst` as [N,hp,wp,cp], with x[n,h,w,c] at
 * [n, h+top, w+left, c] and zeros elsewhere: one bulk copy of x to scratch at `scratch`, then the
 * module's packPadded. Rows and columns that land outside (a negative pad: input the conv never
 * reads) are dropped.
 */
function packInput(k: ConvKernelExports, x: Float32Array, shape: number[], g: PaddedInput, cp: number, dst: number, scratch: number): void {
  const [n, h, w, c] = shape;
  const r0 = Math.max(0, -g.top);
  const r1 = Math.min(h, g.hp - g.top);
  const c0 = Math.max(0, -g.left);
  const c1 = Math.min(w, g.wp - g.left);
  if (r1 <= r0 || c1 <= c0) {
    new Float32Array(k.memory.buffer, dst, n * g.hp * g.wp * cp).fill(0); // the window reads no input at all
    return;
  }
  new Float32Array(k.memory.buffer, scratch, x.length).set(x);
  k.packPadded(scratch, dst, n, h, w, c, g.hp, g.wp, cp, g.top, g.left, r0, r1, c0, c1);
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

/** Every 2x2 output tile reads a 4x4 patch: the padded input covers ceil(O/2) tiles each way. */
function winogradPadding(info: Conv2DInfo): PaddedInput {
  return {
    hp: 2 * Math.ceil(info.outHeight / 2) + 2,
    wp: 2 * Math.ceil(info.outWidth / 2) + 2,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** How simdConv2D and simdConv2DBackpropFilter compute a conv: 'winograd' (3x3, stride 1, 16+ input channels) or 'direct'. */
export function simdConvRoute(info: Conv2DInfo): 'winograd' | 'direct' {
  const winograd = info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.inChannels >= WINOGRAD_MIN_CHANNELS;
  return winograd ? 'winograd' : 'direct';
}

/**
 * The forward convolution (dilation 1, NHWC) of x with filter [fh,fw,ci,co]. Returns the output
 * [N,OH,OW,CO] as a view into the kernels' memory, valid until the next call: copy it out.
 */
export function simdConv2D(x: Float32Array, filter: Float32Array, info: Conv2DInfo, options: SimdConvOptions = {}): Float32Array {
  return conv2dWith(x, filter, false, info, options);
}

/**
 * simdConv2D; with `flipSwap`, `filter` is [fh,fw,co,ci], the filter of the layer whose input
 * gradient this conv computes, used flipped in both spatial axes with its channel axes swapped.
 */
function conv2dWith(x: Float32Array, filter: Float32Array, flipSwap: boolean, info: Conv2DInfo, options: SimdConvOptions): Float32Array {
  const k = requireKernels();
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const co8 = roundUp(co, 8);
  const shape = [n, info.inHeight, info.inWidth, ci];
  const relu = options.relu ? 1 : 0;
  let yp: number;
  let bp: number;
  if (simdConvRoute(info) === 'winograd') {
    const ci4 = roundUp(ci, 4);
    const g = winogradPadding(info);
    let xp: number, wRaw: number, up: number, vp: number, mp: number;
    [xp, wRaw, up, bp, vp, mp, yp] = allocate(k, [
      n * g.hp * g.wp * ci4, 9 * ci * co, 16 * ci4 * co8, co8, 16 * WINOGRAD_BLOCK * ci4, 16 * WINOGRAD_BLOCK * co8,
      Math.max(n * oh * ow * co8, x.length),
    ]);
    packInput(k, x, shape, g, ci4, xp, yp);
    new Float32Array(k.memory.buffer, wRaw, 9 * ci * co).set(filter);
    k.winogradFilter(wRaw, up, ci, co, ci4, co8, flipSwap ? 1 : 0);
    writeBias(k, bp, co8, options.bias);
    k.conv2dWinograd(xp, up, options.bias ? bp : 0, yp, vp, mp, n, oh, ow, g.hp, g.wp, ci4, co8, relu, WINOGRAD_BLOCK);
  } else {
    const g = paddedInput(info);
    let xp: number, wp: number;
    // The raw input shares its scratch with the output: packing is done before the conv writes.
    [xp, wp, bp, yp] = allocate(k, [n * g.hp * g.wp * ci, fh * fw * ci * co8, co8, Math.max(n * oh * ow * co8, x.length)]);
    packInput(k, x, shape, g, ci, xp, yp);
    spreadRows(flipSwap ? flippedSwapped(filter, fh * fw, co, ci) : filter, fh * fw * ci, co, co8, new Float32Array(k.memory.buffer, wp, fh * fw * ci * co8));
    writeBias(k, bp, co8, options.bias);
    k.conv2d(xp, wp, options.bias ? bp : 0, yp, n, oh, ow, g.hp, g.wp, ci, co8, fh, fw, sh, sw, relu, oh * ow * co8 * 4, ow * co8 * 4, co8 * 4);
  }
  return compactRows(new Float32Array(k.memory.buffer, yp, n * oh * ow * co8), n * oh * ow, co, co8);
}

function writeBias(k: ConvKernelExports, at: number, co8: number, bias: Float32Array | undefined): void {
  if (bias != null) spreadRows(bias, 1, bias.length, co8, new Float32Array(k.memory.buffer, at, co8));
}

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh - top + kh, ow*sw - left + kw, ci] * dy[n,oh,ow,co]
 * (dilation 1, NHWC). Returns [fh,fw,ci,co] as a view into the kernels' memory, valid until the
 * next call: copy it out.
 */
export function simdConv2DBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const k = requireKernels();
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const ci4 = roundUp(ci, 4);
  const co8 = roundUp(co, 8);
  const shape = [n, info.inHeight, info.inWidth, ci];
  const winograd = simdConvRoute(info) === 'winograd';
  const g = winograd ? winogradPadding(info) : paddedInput(info);
  // The raw input shares its scratch with the output gradient: packing is done before dy is copied in.
  const [xp, dyp, dwp, vp, wp, mp] = allocate(k, [
    n * g.hp * g.wp * ci4, Math.max(n * oh * ow * co8, x.length), fh * fw * ci4 * co8,
    ...(winograd ? [16 * WINOGRAD_BLOCK * ci4, 16 * WINOGRAD_BLOCK * co8, 16 * ci4 * co8] : []),
  ]);
  packInput(k, x, shape, g, ci4, xp, dyp);
  const mem = k.memory.buffer;
  spreadRows(dy, n * oh * ow, co, co8, new Float32Array(mem, dyp, n * oh * ow * co8));
  if (winograd) {
    k.conv2dFilterGradWinograd(xp, dyp, dwp, vp, wp, mp, n, oh, ow, g.hp, g.wp, ci4, co8, WINOGRAD_BLOCK);
  } else {
    // About 64 output pixels per chunk: enough work per register tile to amortize loading and
    // storing its accumulators, while the chunk's rows stay in L1/L2 (measured: 33-41 GFLOP/s
    // from 4x4x128 to 32x32x16 layers).
    const rowsPerChunk = Math.max(1, Math.ceil(64 / ow));
    k.conv2dFilterGrad(xp, dyp, dwp, n, oh, ow, g.hp, g.wp, ci4, co8, fh, fw, sh, sw, rowsPerChunk);
  }
  // [fh,fw,ci4,co8] -> [fh,fw,ci,co] in place: drop the padded output channels of every row, then
  // the padded input channels of every tap (none of either at ResNet widths).
  const dw = compactRows(new Float32Array(mem, dwp, fh * fw * ci4 * co8), fh * fw * ci4, co, co8);
  return compactRows(dw, fh * fw, ci * co, ci4 * co);
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
export function simdBackpropInputRoute(info: Conv2DInfo): 'winograd' | 'direct' | 'phases' {
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
 * over the terms where both divisions are exact and in range (dilation 1, NHWC): the input
 * gradient of a strided conv without inserting zeros. Input rows h = sh*i + p (one phase p per
 * residue) are reached only by the taps kh = r, r + sh, ... with r = (p + top) mod sh, so each of
 * the sh*sw phases is a stride-1 correlation of dy with a sub-filter of those taps (flipped, its
 * channel axes swapped), written by conv2d straight into every sh-th row and sw-th column of dx.
 * Returns [N,H,W,CI] as a view into the kernels' memory, valid until the next call.
 */
export function simdConv2DBackpropInput(dy: Float32Array, filter: Float32Array, info: Conv2DInfo): Float32Array {
  const forward = backpropInputAsForward(info);
  if (forward) return conv2dWith(dy, filter, true, forward, {});
  const k = requireKernels();
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
  const maxTaps = Math.max(...rows.map((r) => r.taps)) * Math.max(...cols.map((c) => c.taps));
  const [xp, fp, yp] = allocate(k, [n * hp * wp * co, maxTaps * co * ci8, Math.max(n * h * w * ci8, dy.length)]);
  packInput(k, dy, [n, oh, ow, co], { hp, wp, top, left }, co, xp, yp);
  const mem = k.memory.buffer;
  // Phases no tap reaches (a filter smaller than the stride) stay zero.
  new Float32Array(mem, yp, n * h * w * ci8).fill(0);
  const sub = new Float32Array(mem, fp, maxTaps * co * ci8);
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
            for (let o = 0; o < co; o++) sub[((j * c.taps + l) * co + o) * ci8 + i] = filter[((kh * fw + kw) * ci + i) * co + o];
          }
        }
      }
      const start = xp + ((top - r.pad) * wp + (left - c.pad)) * co * 4;
      const out = yp + (ph * w + pw) * ci8 * 4;
      k.conv2d(start, fp, 0, out, n, r.count, c.count, hp, wp, co, ci8, r.taps, c.taps, 1, 1, 0,
        h * w * ci8 * 4, sh * w * ci8 * 4, sw * ci8 * 4);
    }
  }
  return compactRows(new Float32Array(mem, yp, n * h * w * ci8), n * h * w, ci, ci8);
}
