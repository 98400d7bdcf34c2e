// The wasm training kernels against the cpu backend's stock kernels (and, for dilated depthwise
// convs, which the stock cpu backprop kernels ignore, against a direct loop), over strides 1/2,
// 'same'/'valid'/numeric/explicit pads, odd sizes and even filters; plus a whole conv-net
// gradient on wasm vs cpu, and leak checks.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// Registers tfjs-core's gradient functions (tfjs-core's own Node bundle does not).
import '@tensorflow/tfjs-layers';
import { getStockKernel, isMocoKernel } from '../../src/kernels/kernel-registration.js';
import { missingTrainingKernels } from '../../src/kernels/training-kernels.js';
import {
  CONV_BACKPROP_INPUT_MIN_MACS,
  registerWasmTrainingKernels,
  shouldUseConvBackpropInput,
  wasmConvKernels,
} from '../../src/kernels/wasm-training-kernels.js';
import { wasmTrainingKernelsConfig, type WasmConvKernels } from '../../src/kernels/wasm-kernel-options.js';
import { subPixelPlan } from '../../src/kernels/conv-backprop-input-subpixel.js';
import { simdBackpropInputRoute, simdConvBuild, simdConvRoute, simdHeapScratch } from '../../src/kernels/simd-conv.js';
import { float32Tolerance, maxAbsError, runKernelOn, seededValues } from './harness.js';

/** Bytes of tfjs-backend-wasm's heap. */
const wasmHeapBytes = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

const SIZES: Array<[number, number]> = [[7, 7], [9, 8]];
const PADS: Pad[] = ['same', 'valid', 1, [[0, 0], [1, 2], [2, 0], [0, 0]]];
const FILTERS: Array<[number, number]> = [[3, 3], [1, 1], [2, 3]];

interface ConvCase {
  h: number;
  w: number;
  stride: number;
  pad: Pad;
  fh: number;
  fw: number;
}

function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const [h, w] of SIZES) {
    for (const stride of [1, 2]) {
      for (const pad of PADS) for (const [fh, fw] of FILTERS) cases.push({ h, w, stride, pad, fh, fw });
    }
  }
  return cases;
}

const describe = (c: ConvCase) => `${c.h}x${c.w} s${c.stride} ${JSON.stringify(c.pad)} ${c.fh}x${c.fw}`;

test.before(async () => {
  await tf.setBackend('wasm');
});

test.serial('before registration wasm lacks exactly the conv-filter and segment-sum gradient kernels', (t) => {
  // Documents why the module exists; runs first, before anything is registered in this process.
  t.deepEqual(missingTrainingKernels('wasm'), ['Conv2DBackpropFilter', 'UnsortedSegmentSum']);
  t.true(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm') == null);
});

test.serial('registration reports what it did and is idempotent', (t) => {
  const first = registerWasmTrainingKernels();
  t.deepEqual(first, {
    Conv2DBackpropFilter: 'registered',
    DepthwiseConv2dNativeBackpropFilter: 'registered',
    DepthwiseConv2dNativeBackpropInput: 'registered',
    UnsortedSegmentSum: 'registered',
    Conv2DBackpropInput: 'replaced',
    Identity: 'replaced',
    Conv2D: 'replaced',
    FusedConv2D: 'replaced',
  });
  const second = registerWasmTrainingKernels();
  t.true(Object.values(second).every((outcome) => outcome === 'already-registered'));
  t.deepEqual(missingTrainingKernels('wasm'), []);
  t.true(isMocoKernel('Conv2DBackpropInput', 'wasm'));
  // Node 20 validates WebAssembly SIMD, so the library's own conv loops are the default here.
  t.is(wasmConvKernels(), 'simd');
  // The stock kernel stays reachable for delegation and comparison.
  const stock = getStockKernel('Conv2DBackpropInput', 'wasm');
  t.truthy(stock);
  t.not(stock, tf.getKernel('Conv2DBackpropInput', 'wasm'));
});

test.serial('registration options set the whole configuration: omitted fields take the documented defaults, bad values name the field', (t) => {
  registerWasmTrainingKernels({ convKernels: 'xnnpack', simdInPlace: false, backpropInputPolicy: 'stock', simdFma: 'off' });
  t.deepEqual({ ...wasmTrainingKernelsConfig() }, { convKernels: 'xnnpack', simdInPlace: false, backpropInputPolicy: 'stock', simdFma: 'off' });
  t.is(simdConvBuild(), 'mul-add');
  t.is(wasmConvKernels(), 'xnnpack');
  registerWasmTrainingKernels({ backpropInputPolicy: 'conv' });
  t.deepEqual({ ...wasmTrainingKernelsConfig() }, { convKernels: 'simd', simdInPlace: true, backpropInputPolicy: 'conv', simdFma: 'auto' });
  t.is(simdConvBuild(), 'relaxed', 'Node 20.20 gets relaxed SIMD once the library turns on its V8 flag');
  t.throws(() => registerWasmTrainingKernels({ simdFma: 'fast' as 'auto' }), { message: /simdFma must be one of auto, relaxed, off, got 'fast'/ });
  t.throws(() => registerWasmTrainingKernels({ convKernels: 'avx' as WasmConvKernels }), { message: /convKernels must be one of simd, xnnpack, got 'avx'/ });
  // A rejected call leaves the previous configuration in force.
  t.is(wasmTrainingKernelsConfig().backpropInputPolicy, 'conv');
  registerWasmTrainingKernels();
  t.deepEqual({ ...wasmTrainingKernelsConfig() }, { convKernels: 'simd', simdInPlace: true, backpropInputPolicy: 'auto', simdFma: 'auto' });
  t.is(wasmConvKernels(), 'simd');
});

test.serial('Identity (what tfjs runs for every tensor a gradient saves) shares memory instead of copying, and stays correct', (t) => {
  registerWasmTrainingKernels();
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const before = tf.memory().numDataBuffers;
  const y = tf.clone(x);
  t.is(tf.memory().numDataBuffers, before, 'no new buffer for the clone');
  t.deepEqual(y.arraySync(), [[1, 2], [3, 4]]);
  x.dispose(); // the clone keeps its own reference
  t.deepEqual(y.arraySync(), [[1, 2], [3, 4]]);
  y.dispose();
  t.is(tf.memory().numDataBuffers, before - 1, 'the buffer is freed with its last reference');
  // Strings go to the stock kernel.
  const s = tf.tensor1d(['a', 'b'], 'string');
  t.deepEqual(tf.clone(s).arraySync(), ['a', 'b']);
  // A gradient whose saved tensors are clones: d/dx Σ exp(x)·x = exp(x)(1 + x).
  const v = tf.tensor1d([0, 1, -2]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.exp(a), a)))(v);
  const expected = [0, 1, -2].map((a) => Math.exp(a) * (1 + a));
  t.true(maxAbsError(g.dataSync(), Float32Array.from(expected)) < 1e-6);
  tf.dispose([s, v, g]);
});

/** Runs `body` with the given wasm conv loops, restoring the default afterwards. */
async function withConvKernels<T>(kernels: WasmConvKernels, body: () => Promise<T>): Promise<T> {
  registerWasmTrainingKernels({ convKernels: kernels });
  try {
    return await body();
  } finally {
    registerWasmTrainingKernels();
  }
}

const CONV_KERNELS: WasmConvKernels[] = ['simd', 'xnnpack'];
// [ci, co]: channel counts off the SIMD loops' blocks of 4 and 8 (padded inside), and on them.
const CHANNELS: Array<[number, number]> = [[3, 5], [8, 16]];

for (const kernels of CONV_KERNELS) {
  test.serial(`Conv2DBackpropFilter (${kernels}) matches the cpu stock kernel`, async (t) => {
    registerWasmTrainingKernels();
    await withConvKernels(kernels, async () => {
      t.is(wasmConvKernels(), kernels);
      let worst = 0;
      const routes = { winograd4: 0, winograd: 0, direct: 0 };
      for (const c of convCases()) {
        // [20, 24]: the 3x3 stride-1 cases take the Winograd route (9x8 at n 3: 60 tiles, a block and a part).
        for (const [ci, co] of [...CHANNELS, [20, 24]] as Array<[number, number]>) {
          const n = 3;
          const info = tf.backend_util.computeConv2DInfo([n, c.h, c.w, ci], [c.fh, c.fw, ci, co], c.stride, 1, c.pad);
          routes[simdConvRoute(info)]++;
          const inputs = {
            x: { values: seededValues(n * c.h * c.w * ci, 1), shape: [n, c.h, c.w, ci] },
            dy: { values: seededValues(tf.util.sizeFromShape(info.outShape), 2), shape: info.outShape },
          };
          const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.fh, c.fw, ci, co] };
          const ref = await runKernelOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
          const got = await runKernelOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
          t.deepEqual(got.shape, ref.shape, describe(c));
          const err = maxAbsError(got.values, ref.values);
          t.true(err <= float32Tolerance(ref.values, n * info.outHeight * info.outWidth), `${describe(c)} ${ci}->${co}: error ${err}`);
          worst = Math.max(worst, err);
        }
      }
      t.deepEqual(routes, { winograd4: 0, winograd: 8, direct: 136 });
      t.log(`Conv2DBackpropFilter (${kernels}): max abs error ${worst.toExponential(2)} over ${routes.winograd + routes.direct} cases`);
    });
  });
}

test.serial('Conv2D and FusedConv2D (simd) match the cpu stock kernels; what the loops do not cover goes to XNNPACK', async (t) => {
  registerWasmTrainingKernels();
  t.is(wasmConvKernels(), 'simd');
  let worst = 0;
  let cases = 0;
  const routes = { winograd4: 0, winograd: 0, direct: 0 };
  for (const c of convCases()) {
    for (const [ci, co] of [...CHANNELS, [20, 24], [64, 12]] as Array<[number, number]>) {
      const n = 2;
      // 3x3 stride 1 at 20 channels: Winograd F(2x2,3x3), over 40 tiles at 9x8 (a full block of 32 and
      // a part); at 64 channels F(4x4,3x3) (12 tiles, partial ones at the bottom and right).
      routes[simdConvRoute(tf.backend_util.computeConv2DInfo([n, c.h, c.w, ci], [c.fh, c.fw, ci, co], c.stride, 1, c.pad))]++;
      const x = { values: seededValues(n * c.h * c.w * ci, 50), shape: [n, c.h, c.w, ci] };
      const filter = { values: seededValues(c.fh * c.fw * ci * co, 51), shape: [c.fh, c.fw, ci, co] };
      const bias = { values: seededValues(co, 52), shape: [co] };
      const conv = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      const variants: Array<[string, string, Record<string, KernelInputLike>, Record<string, unknown>]> = [
        ['Conv2D', 'plain', { x, filter }, conv],
        ['FusedConv2D', 'bias+relu', { x, filter, bias }, { ...conv, activation: 'relu' }],
        ['FusedConv2D', 'bias', { x, filter, bias }, { ...conv, activation: 'linear' }],
        ['FusedConv2D', 'relu', { x, filter }, { ...conv, activation: 'relu' }],
      ];
      // Not covered by the SIMD loops: the stock kernel runs. Only for 'same'/'valid': stock wasm
      // 4.22 computes numeric pads with a non-square filter unlike cpu (error ~5 at pad 1, 2x3),
      // which the SIMD loops do not inherit.
      if (c.pad === 'same' || c.pad === 'valid') {
        variants.push(['FusedConv2D', 'bias+elu', { x, filter, bias }, { ...conv, activation: 'elu' }]);
      }
      for (const [kernel, label, inputs, attrs] of variants) {
        const ref = await runKernelOn('cpu', kernel, inputs, attrs);
        const got = await runKernelOn('wasm', kernel, inputs, attrs);
        t.deepEqual(got.shape, ref.shape, `${kernel} ${label} ${describe(c)}`);
        const err = maxAbsError(got.values, ref.values);
        t.true(err <= float32Tolerance(ref.values, c.fh * c.fw * ci), `${kernel} ${label} ${describe(c)} ${ci}->${co}: error ${err}`);
        worst = Math.max(worst, err);
        cases++;
      }
    }
  }
  // A dilated conv is not covered either (the stock kernel runs).
  const dilated = await runKernelOn('wasm', 'Conv2D', {
    x: { values: seededValues(2 * 9 * 9 * 3, 53), shape: [2, 9, 9, 3] },
    filter: { values: seededValues(3 * 3 * 3 * 4, 54), shape: [3, 3, 3, 4] },
  }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 2 });
  t.deepEqual(dilated.shape, [2, 5, 5, 4]);
  t.deepEqual(routes, { winograd4: 8, winograd: 8, direct: 176 });
  t.log(`Conv2D/FusedConv2D (simd): max abs error ${worst.toExponential(2)} over ${cases} cases`);
});

type KernelInputLike = { values: Float32Array; shape: number[] };

/** convCases plus even sizes, where the sub-pixel route applies to strided layers. */
function inputGradCases(): ConvCase[] {
  const even: ConvCase[] = [];
  for (const [h, w] of [[8, 8], [10, 6]] as const) {
    for (const pad of PADS) for (const [fh, fw] of [[3, 3], [2, 3], [5, 5], [1, 1]] as const) even.push({ h, w, stride: 2, pad, fh, fw });
  }
  // Stride 3: three phases per axis, one of them reached by no tap of a 2-wide filter.
  const stride3: ConvCase[] = [];
  for (const pad of ['same', 'valid'] as const) for (const [fh, fw] of [[3, 3], [2, 2], [5, 4]] as const) stride3.push({ h: 10, w: 9, stride: 3, pad, fh, fw });
  return [...convCases(), ...even, ...stride3];
}

for (const [policy, kernels] of [['conv', 'simd'], ['subpixel', 'simd'], ['phases', 'simd'], ['auto', 'simd'], ['auto', 'xnnpack']] as const) {
  test.serial(`Conv2DBackpropInput (policy ${policy}, ${kernels}) matches the cpu stock kernel`, async (t) => {
    registerWasmTrainingKernels({ backpropInputPolicy: policy, convKernels: kernels });
    try {
      let worst = 0;
      let subPixel = 0;
      const routes = { winograd4: 0, winograd: 0, direct: 0, phases: 0 };
      for (const c of inputGradCases()) for (const [ci, co] of [[4, 2], [5, 16]]) {
        // dy with 16 channels: the stride-1 3x3 cases run their conv by Winograd.
        const n = 3;
        const info = tf.backend_util.computeConv2DInfo([n, c.h, c.w, ci], [c.fh, c.fw, ci, co], c.stride, 1, c.pad);
        const inputs = {
          dy: { values: seededValues(tf.util.sizeFromShape(info.outShape), 3), shape: info.outShape },
          filter: { values: seededValues(c.fh * c.fw * ci * co, 4), shape: [c.fh, c.fw, ci, co] },
        };
        const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: [n, c.h, c.w, ci] };
        if (subPixelPlan(info) != null) subPixel++;
        routes[simdBackpropInputRoute(info)]++;
        const ref = await runKernelOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
        const got = await runKernelOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
        t.deepEqual(got.shape, ref.shape, describe(c));
        const err = maxAbsError(got.values, ref.values);
        t.true(err <= float32Tolerance(ref.values, c.fh * c.fw * co), `${describe(c)}: error ${err}`);
        worst = Math.max(worst, err);
      }
      // The even strided cases with filters wider than the stride take the sub-pixel route.
      t.true(subPixel >= 48, `${subPixel} sub-pixel cases`);
      // With the SIMD loops ('phases', 'auto'), stride-1 layers run as a forward conv of the flipped filter (by
      // Winograd where dy has 16 channels and the filter is 3x3), strided ones and pads wider than the filter by phases.
      t.deepEqual(routes, { winograd4: 0, winograd: 8, direct: 28, phases: 136 });
      t.log(`Conv2DBackpropInput (${policy}, ${kernels}): max abs error ${worst.toExponential(2)} over ${2 * inputGradCases().length} cases, ${subPixel} sub-pixel-shaped`);
    } finally {
      registerWasmTrainingKernels();
    }
  });
}

test.serial('Conv2DBackpropInput uses the conv route only above the size threshold', (t) => {
  const small = tf.backend_util.computeConv2DInfo([3, 7, 7, 3], [3, 3, 3, 5], 1, 1, 'same');
  const large = tf.backend_util.computeConv2DInfo([8, 16, 16, 8], [3, 3, 8, 8], 1, 1, 'same');
  t.true(3 * 49 * 9 * 15 < CONV_BACKPROP_INPUT_MIN_MACS);
  t.false(shouldUseConvBackpropInput(small));
  t.true(shouldUseConvBackpropInput(large));
});

/** Direct loop over the forward depthwise conv, accumulating both gradients in float64. */
function depthwiseGradsByLoop(
  shape: { n: number; h: number; w: number; c: number; fh: number; fw: number; m: number },
  stride: number,
  dilation: number,
  pad: Pad,
  x: Float32Array,
  filter: Float32Array,
  dy: Float32Array,
): { dW: Float64Array; dX: Float64Array } {
  const { n, h, w, c, fh, fw, m } = shape;
  const info = tf.backend_util.computeConv2DInfo([n, h, w, c], [fh, fw, c, m], stride, dilation, pad, undefined, true);
  const { outHeight: oh, outWidth: ow } = info;
  const dW = new Float64Array(fh * fw * c * m);
  const dX = new Float64Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      for (let yc = 0; yc < ow; yc++) {
        for (let kh = 0; kh < fh; kh++) {
          for (let kw = 0; kw < fw; kw++) {
            const xr = yr * stride - info.padInfo.top + kh * dilation;
            const xc = yc * stride - info.padInfo.left + kw * dilation;
            if (xr < 0 || xr >= h || xc < 0 || xc >= w) continue;
            for (let ch = 0; ch < c; ch++) {
              for (let q = 0; q < m; q++) {
                const g = dy[((b * oh + yr) * ow + yc) * c * m + ch * m + q];
                const xi = ((b * h + xr) * w + xc) * c + ch;
                const wi = ((kh * fw + kw) * c + ch) * m + q;
                dW[wi] += x[xi] * g;
                dX[xi] += filter[wi] * g;
              }
            }
          }
        }
      }
    }
  }
  return { dW, dX };
}

test.serial('depthwise backprop kernels match cpu (dilation 1) and a direct loop (dilation 1-3)', async (t) => {
  registerWasmTrainingKernels();
  let worstCpu = 0;
  let worstLoop = 0;
  let cases = 0;
  for (const [h, w] of SIZES) {
    for (const [stride, dilation] of [[1, 1], [2, 1], [1, 2], [1, 3]]) {
      for (const pad of ['same', 'valid'] as const) {
        for (const [fh, fw] of [[3, 3], [2, 3]]) {
          for (const m of [1, 2]) {
            const [n, c] = [3, 2];
            const info = tf.backend_util.computeConv2DInfo([n, h, w, c], [fh, fw, c, m], stride, dilation, pad, undefined, true);
            if (info.outHeight <= 0 || info.outWidth <= 0) continue;
            cases++;
            const xv = seededValues(n * h * w * c, 5);
            const fv = seededValues(fh * fw * c * m, 6);
            const dyv = seededValues(tf.util.sizeFromShape(info.outShape), 7);
            const common = { strides: stride, dilations: dilation, pad };
            const dwInputs = { x: { values: xv, shape: [n, h, w, c] }, dy: { values: dyv, shape: info.outShape } };
            const dxInputs = { dy: { values: dyv, shape: info.outShape }, filter: { values: fv, shape: [fh, fw, c, m] } };
            const dwAttrs = { ...common, filterShape: [fh, fw, c, m] };
            const dxAttrs = { ...common, inputShape: [n, h, w, c] };
            const dW = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', dwInputs, dwAttrs);
            const dX = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', dxInputs, dxAttrs);
            const label = `${h}x${w} s${stride} d${dilation} ${pad} ${fh}x${fw} m${m}`;
            const loop = depthwiseGradsByLoop({ n, h, w, c, fh, fw, m }, stride, dilation, pad, xv, fv, dyv);
            const eW = maxAbsError(dW.values, loop.dW);
            const eX = maxAbsError(dX.values, loop.dX);
            t.true(eW <= float32Tolerance(loop.dW, n * info.outHeight * info.outWidth), `${label}: dW error ${eW}`);
            t.true(eX <= float32Tolerance(loop.dX, fh * fw * m), `${label}: dX error ${eX}`);
            worstLoop = Math.max(worstLoop, eW, eX);
            if (dilation === 1) {
              // The stock cpu kernels are the reference tfjs users get; they ignore dilations.
              const refW = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', dwInputs, dwAttrs);
              const refX = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropInput', dxInputs, dxAttrs);
              const e = Math.max(maxAbsError(dW.values, refW.values), maxAbsError(dX.values, refX.values));
              t.true(e <= float32Tolerance(refW.values, n * info.outHeight * info.outWidth), `${label}: vs cpu ${e}`);
              worstCpu = Math.max(worstCpu, e);
            }
          }
        }
      }
    }
  }
  t.log(`depthwise: ${cases} cases, max abs error ${worstCpu.toExponential(2)} vs cpu, ${worstLoop.toExponential(2)} vs loop`);
});

test.serial('UnsortedSegmentSum matches the cpu stock kernel', async (t) => {
  registerWasmTrainingKernels();
  const cases: Array<{ x: number[]; ids: number[]; idShape: number[]; numSegments: number; dtype: 'float32' | 'int32' }> = [
    // ids out of range (-1, 7) are dropped; segment 4 stays empty
    { x: [9, 5], ids: [0, 5, 2, 2, 3, 0, 1, -1, 7], idShape: [9], numSegments: 6, dtype: 'float32' },
    { x: [4, 3, 2], ids: [1, 0, 1, 1], idShape: [4], numSegments: 3, dtype: 'float32' },
    { x: [5], ids: [1, 1, 0, 2, 1], idShape: [5], numSegments: 3, dtype: 'int32' },
  ];
  let worst = 0;
  for (const [i, c] of cases.entries()) {
    const size = tf.util.sizeFromShape(c.x);
    const values = c.dtype === 'int32'
      ? Int32Array.from(seededValues(size, 10 + i), (v) => Math.round(v * 100))
      : seededValues(size, 10 + i);
    const inputs = {
      x: { values, shape: c.x, dtype: c.dtype },
      segmentIds: { values: Int32Array.from(c.ids), shape: c.idShape, dtype: 'int32' as const },
    };
    const ref = await runKernelOn('cpu', 'UnsortedSegmentSum', inputs, { numSegments: c.numSegments });
    const got = await runKernelOn('wasm', 'UnsortedSegmentSum', inputs, { numSegments: c.numSegments });
    t.deepEqual(got.shape, ref.shape);
    // TF keeps the data's dtype; tfjs' cpu kernel upcasts int32 data to float32 (its mask is
    // float). Values are compared either way.
    t.is(got.values.constructor, c.dtype === 'int32' ? Int32Array : Float32Array);
    const err = maxAbsError(got.values, ref.values);
    t.true(err <= 1e-6, `case ${i}: error ${err}`);
    worst = Math.max(worst, err);
  }
  t.log(`UnsortedSegmentSum: max abs error ${worst.toExponential(2)}`);
});

test.serial('UnsortedSegmentSum accepts multi-dimensional segment ids (TF semantics)', async (t) => {
  // The stock cpu kernel mis-broadcasts rank-2 ids, so the reference is computed by hand.
  registerWasmTrainingKernels();
  const x = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i);
  const ids = Int32Array.from([0, 2, 1, 1, 0, 2]);
  const got = await runKernelOn(
    'wasm',
    'UnsortedSegmentSum',
    { x: { values: x, shape: [2, 3, 2] }, segmentIds: { values: ids, shape: [2, 3], dtype: 'int32' } },
    { numSegments: 3 },
  );
  t.deepEqual(got.shape, [3, 2]);
  // rows of x: [0,1] [2,3] [4,5] [6,7] [8,9] [10,11] -> segments 0: rows 0,4; 1: rows 2,3; 2: rows 1,5
  t.deepEqual(Array.from(got.values), [8, 10, 10, 12, 12, 14]);
});

// A small conv net exercising every replaced/added kernel through autodiff: fused conv + bias +
// relu, batch norm, strided conv, depthwise conv, global average pooling, a gather
// (shuffle-BN style permutation, whose gradient is UnsortedSegmentSum) and a dense softmax loss.
const NET_SHAPES: Record<string, number[]> = {
  w1: [3, 3, 3, 4], b1: [4], gamma: [4], beta: [4], w2: [3, 3, 4, 5], wd: [3, 3, 5, 1], w3: [5, 3], b3: [3],
};

function makeNet(): { vars: Record<string, tf.Variable>; loss: () => tf.Scalar; dispose: () => void } {
  const vars: Record<string, tf.Variable> = {};
  for (const [i, [name, shape]] of Object.entries(NET_SHAPES).entries()) {
    const init = tf.tidy(() => {
      const t = tf.mul(tf.tensor(seededValues(tf.util.sizeFromShape(shape), 20 + i), shape), 0.5);
      return name === 'gamma' ? tf.add(t, 1) : t;
    });
    vars[name] = tf.variable(init, true, `net_${name}_${Math.random()}`);
    init.dispose();
  }
  const x = tf.tensor4d(seededValues(4 * 9 * 9 * 3, 30), [4, 9, 9, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3);
  const perm = tf.tensor1d([2, 0, 3, 1], 'int32');
  const loss = () => {
    const v = vars;
    const h1 = tf.fused.conv2d({
      x, filter: v.w1 as tf.Tensor4D, strides: 1, pad: 'same', bias: v.b1, activation: 'relu',
    });
    const { mean, variance } = tf.moments(h1, [0, 1, 2]);
    const bn = tf.batchNorm(h1, mean, variance, v.beta, v.gamma, 1e-3);
    const h2 = tf.relu(tf.conv2d(bn as tf.Tensor4D, v.w2 as tf.Tensor4D, 2, 'same'));
    const h3 = tf.depthwiseConv2d(h2, v.wd as tf.Tensor4D, 1, 'same');
    const pooled = tf.mean(h3, [1, 2]);
    const shuffled = tf.gather(pooled, perm);
    const logits = tf.add(tf.matMul(shuffled, v.w3), v.b3);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  return { vars, loss, dispose: () => tf.dispose([x, labels, perm, ...Object.values(vars)]) };
}

async function netGradients(backendName: string): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backendName);
  const net = makeNet();
  const { value, grads } = tf.variableGrads(net.loss);
  const out: Record<string, Float32Array> = { loss: (await value.data()) as Float32Array };
  for (const [name, g] of Object.entries(grads)) out[name.split('_')[1]] = (await g.data()) as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  net.dispose();
  return out;
}

for (const [policy, kernels] of [['conv', 'simd'], ['auto', 'simd'], ['auto', 'xnnpack']] as const) {
  test.serial(`a conv-net training step has the same gradients on wasm as on cpu (dX policy ${policy}, ${kernels})`, async (t) => {
    registerWasmTrainingKernels({ backpropInputPolicy: policy, convKernels: kernels });
    try {
      const cpu = await netGradients('cpu');
      const wasm = await netGradients('wasm');
      t.deepEqual(Object.keys(wasm).sort(), ['b1', 'b3', 'beta', 'gamma', 'loss', 'w1', 'w2', 'w3', 'wd']);
      const errors: string[] = [];
      for (const name of Object.keys(cpu)) {
        const err = maxAbsError(wasm[name], cpu[name]);
        errors.push(`${name} ${err.toExponential(1)}`);
        // float32 noise relative to the largest gradient entry, with room for the net's depth.
        t.true(err <= 1e-4 * Math.max(1, ...Array.from(cpu[name], Math.abs)), `${name}: error ${err}`);
      }
      t.log(`max abs error per gradient: ${errors.join(', ')}`);
    } finally {
      registerWasmTrainingKernels();
    }
  });
}

test.serial('the SIMD kernels give the same bits in the backend heap as in their own memory (copying)', async (t) => {
  registerWasmTrainingKernels({ convKernels: 'simd' });
  // Channels that are multiples of 8 (read and written in place) and not (padded scratch, compacted
  // into the output), stride 1 by both Winograd forms (64 channels in: F(4x4,3x3), forward and input
  // gradient) and direct, stride 2 by phases.
  const calls: Array<[string, () => tf.Tensor]> = [];
  const operands: tf.Tensor[] = [];
  for (const [ci, co] of [[16, 16], [16, 8], [5, 12], [6, 10], [64, 8], [8, 64]]) {
    const x = tf.tensor4d(seededValues(2 * 9 * 7 * ci, ci), [2, 9, 7, ci]);
    const filter = tf.tensor4d(seededValues(9 * ci * co, co), [3, 3, ci, co]);
    const bias = tf.tensor1d(seededValues(co, 7));
    operands.push(x, filter, bias);
    for (const stride of [1, 2]) {
      const y = tf.conv2d(x, filter, stride, 'same');
      operands.push(y);
      calls.push(
        [`FusedConv2D ${ci}->${co} s${stride}`, () => tf.fused.conv2d({ x, filter, bias, strides: stride, pad: 'same', activation: 'relu' })],
        [`Conv2DBackpropFilter ${ci}->${co} s${stride}`, () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: y }, { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] }) as tf.Tensor],
        [`Conv2DBackpropInput ${ci}->${co} s${stride}`, () => tf.engine().runKernel('Conv2DBackpropInput', { dy: y, filter }, { strides: stride, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor],
      );
    }
  }
  try {
    for (const [name, call] of calls) {
      registerWasmTrainingKernels({ simdInPlace: true });
      const taken = simdHeapScratch().taken;
      const inPlace = call();
      t.true(simdHeapScratch().taken > taken, `${name}: ran in the heap`);
      registerWasmTrainingKernels({ simdInPlace: false });
      const copied = call();
      t.true(simdHeapScratch().taken === taken + 1, `${name}: the copying route takes no heap scratch`);
      t.deepEqual(Array.from(inPlace.dataSync()), Array.from(copied.dataSync()), name);
      t.true(inPlace.dataSync().some((v) => v !== 0), `${name}: not all zero`);
      tf.dispose([inPlace, copied]);
    }
  } finally {
    registerWasmTrainingKernels({ simdInPlace: true });
    tf.dispose(operands);
  }
});

test.serial('no tensor or wasm-memory leak over 20 gradient calls', async (t) => {
  await tf.setBackend('wasm');
  // 'conv' so that the replaced Conv2DBackpropInput route is the one being checked.
  registerWasmTrainingKernels({ backpropInputPolicy: 'conv' });
  const net = makeNet();
  try {
    const step = () => {
      const { value, grads } = tf.variableGrads(net.loss);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    for (let i = 0; i < 20; i++) step();
    t.is(tf.memory().numTensors, tensors);
    t.is(tf.backend().numDataIds(), dataIds);
  } finally {
    net.dispose();
    registerWasmTrainingKernels();
  }
});

test.serial('each kernel leaves no intermediate buffer behind', async (t) => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels({ backpropInputPolicy: 'conv' });
  try {
    const x = tf.tensor4d(seededValues(3 * 7 * 7 * 4, 40), [3, 7, 7, 4]);
    const dy = tf.tensor4d(seededValues(3 * 4 * 4 * 4, 41), [3, 4, 4, 4]);
    const filter = tf.tensor4d(seededValues(3 * 3 * 4 * 4, 42), [3, 3, 4, 4]);
    const dwFilter = tf.tensor4d(seededValues(3 * 3 * 4 * 1, 43), [3, 3, 4, 1]);
    const ids = tf.tensor1d([0, 2, 1], 'int32');
    const bias = tf.tensor1d([0.1, -0.2, 0.3, 0]);
    const runs: Array<() => tf.Tensor> = [
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 4] }) as tf.Tensor,
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [3, 7, 7, 4] }) as tf.Tensor,
      () => {
        registerWasmTrainingKernels({ backpropInputPolicy: 'subpixel' }); // an even input: the sub-pixel route
        try {
          return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [3, 8, 8, 4] }) as tf.Tensor;
        } finally {
          registerWasmTrainingKernels({ backpropInputPolicy: 'conv' });
        }
      },
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 2, dilations: 1, pad: 'same', filterShape: [3, 3, 4, 1] }) as tf.Tensor,
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: dwFilter }, { strides: 2, dilations: 1, pad: 'same', inputShape: [3, 7, 7, 4] }) as tf.Tensor,
      () => tf.engine().runKernel('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 3 }) as tf.Tensor,
      () => tf.engine().runKernel('Conv2D', { x, filter }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }) as tf.Tensor,
      () => tf.engine().runKernel('FusedConv2D', { x, filter, bias }, {
        strides: 2, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'relu',
      }) as tf.Tensor,
    ];
    const taken = simdHeapScratch().taken;
    for (const run of runs) {
      run().dispose();
      const before = tf.backend().numDataIds();
      const heapBytes = wasmHeapBytes();
      for (let i = 0; i < 3; i++) run().dispose();
      t.is(tf.backend().numDataIds(), before);
      // The SIMD loops run in the backend's heap, their scratch from its malloc: freed after every call,
      // so repeating a call never grows the heap.
      t.is(simdHeapScratch().live, 0);
      t.is(wasmHeapBytes(), heapBytes);
    }
    t.true(simdHeapScratch().taken > taken, 'the SIMD loops ran in the backend heap');
    tf.dispose([x, dy, filter, dwFilter, ids, bias]);
  } finally {
    registerWasmTrainingKernels();
  }
});
