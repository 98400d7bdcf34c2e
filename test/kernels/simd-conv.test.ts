// The SIMD conv loops called directly on arrays (no tfjs backend): the route each geometry takes,
// forward, filter and input gradients against a float64 loop on every route and with both builds
// (fused multiply-add by relaxed SIMD, and mul+add), and a call too large for wasm32 memory failing
// with a message that names the fixes.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import {
  directChunk,
  simdConv2D,
  simdConv2DBackpropFilter,
  simdConv2DBackpropInput,
  simdConvAvailable,
  simdConvMemoryBytes,
  simdConvRoute,
  simdConvBuild,
  setSimdConvFma,
  type SimdFma,
} from '../../src/kernels/simd-conv.js';
import { float32Tolerance, maxAbsError, seededValues } from './harness.js';

const info = (shape: [number, number, number, number], filter: [number, number, number, number], stride: number, pad: 'same' | 'valid') =>
  tf.backend_util.computeConv2DInfo(shape, filter, stride, 1, pad);

test('this Node runs the SIMD loops', (t) => {
  t.true(simdConvAvailable());
});

test('3x3 stride-1 convs take Winograd F(4x4,3x3) from 64 input channels, F(2x2,3x3) from 16, else the direct loop', (t) => {
  t.is(simdConvRoute(info([2, 8, 8, 64], [3, 3, 64, 8], 1, 'same')), 'winograd4');
  t.is(simdConvRoute(info([2, 8, 8, 63], [3, 3, 63, 8], 1, 'same')), 'winograd');
  t.is(simdConvRoute(info([2, 8, 8, 16], [3, 3, 16, 8], 1, 'same')), 'winograd');
  t.is(simdConvRoute(info([2, 8, 8, 15], [3, 3, 15, 8], 1, 'same')), 'direct');
  t.is(simdConvRoute(info([2, 8, 8, 32], [3, 3, 32, 8], 2, 'same')), 'direct');
  t.is(simdConvRoute(info([2, 8, 8, 32], [5, 5, 32, 8], 1, 'same')), 'direct');
  t.is(simdConvRoute(info([2, 8, 8, 32], [1, 1, 32, 8], 1, 'same')), 'direct');
});

/** y = relu(bias + conv(x, w)) and dW = conv-grad(x, dy), accumulated in float64. */
function reference(x: Float32Array, w: Float32Array, bias: Float32Array, dy: Float32Array, ci: tf.backend_util.Conv2DInfo) {
  const { batchSize: n, inHeight: h, inWidth: wd, inChannels: c, outChannels: co, outHeight: oh, outWidth: ow } = ci;
  const { filterHeight: fh, filterWidth: fw, strideHeight: s } = ci;
  const y = new Float64Array(n * oh * ow * co);
  const dW = new Float64Array(fh * fw * c * co);
  const dX = new Float64Array(n * h * wd * c);
  for (let b = 0; b < n; b++) for (let r = 0; r < oh; r++) for (let q = 0; q < ow; q++) for (let o = 0; o < co; o++) {
    let acc = bias[o];
    for (let kh = 0; kh < fh; kh++) for (let kw = 0; kw < fw; kw++) {
      const xr = r * s - ci.padInfo.top + kh;
      const xc = q * s - ci.padInfo.left + kw;
      if (xr < 0 || xr >= h || xc < 0 || xc >= wd) continue;
      for (let i = 0; i < c; i++) {
        const xv = x[((b * h + xr) * wd + xc) * c + i];
        acc += xv * w[((kh * fw + kw) * c + i) * co + o];
        dW[((kh * fw + kw) * c + i) * co + o] += xv * dy[((b * oh + r) * ow + q) * co + o];
        dX[((b * h + xr) * wd + xc) * c + i] += w[((kh * fw + kw) * c + i) * co + o] * dy[((b * oh + r) * ow + q) * co + o];
      }
    }
    y[((b * oh + r) * ow + q) * co + o] = Math.max(0, acc);
  }
  return { y, dW, dX };
}

for (const [label, shape, filter, stride, pad] of [
  ['winograd, odd output (partial tiles), 2 blocks', [3, 9, 7, 16], [3, 3, 16, 12], 1, 'same'],
  ['winograd F(4x4,3x3), partial tiles both ways', [2, 7, 9, 64], [3, 3, 64, 12], 1, 'same'],
  ['direct forward, input gradient by F(4x4,3x3) of the flipped filter', [2, 6, 5, 8], [3, 3, 8, 64], 1, 'same'],
  ['direct, stride 2, valid', [2, 9, 8, 6], [3, 3, 6, 10], 2, 'valid'],
  // 27 output pixels over 3 images in chunks of 8 (directChunk, asserted below): tiles span rows and
  // images, and the last 3 pixels take the one-pixel loop.
  ['direct, stride 2, valid: 4-pixel tiles across rows and images, chunks of 8, a 3-pixel tail', [3, 7, 7, 160], [3, 3, 160, 16], 2, 'valid'],
  // The input gradient of a 7x7 -> 4x4 layer: phases of 4x4, 4x3, 3x4 and 3x3 pixels.
  ['direct, stride 2, same, 7x7: input-gradient phases of 4x4, 4x3, 3x4, 3x3', [3, 7, 7, 20], [3, 3, 20, 24], 2, 'same'],
] as const) for (const fma of ['relaxed', 'off'] as const) {
  test(`forward (bias + ReLU), filter and input gradients match a float64 loop (simdFma ${fma}): ${label}`, (t) => {
    setSimdConvFma(fma); // tests are synchronous, so the setting holds for the whole body
    t.is(simdConvBuild(), fma === 'off' ? 'mul-add' : 'relaxed');
    const ci = info([...shape], [...filter], stride, pad);
    const x = seededValues(tf.util.sizeFromShape([...shape]), 1);
    const w = seededValues(tf.util.sizeFromShape([...filter]), 2);
    const bias = seededValues(filter[3], 3);
    const dy = seededValues(tf.util.sizeFromShape(ci.outShape), 4);
    const ref = reference(x, w, bias, dy, ci);
    const y = Float32Array.from(simdConv2D(x, w, ci, { bias, relu: true })); // a view: copy before the next call
    const dW = Float32Array.from(simdConv2DBackpropFilter(x, dy, ci));
    const dX = simdConv2DBackpropInput(dy, w, ci);
    t.true(maxAbsError(dX, ref.dX) <= float32Tolerance(ref.dX, 9 * filter[3]), `dX error ${maxAbsError(dX, ref.dX)}`);
    t.true(maxAbsError(y, ref.y) <= float32Tolerance(ref.y, 9 * shape[3]), `y error ${maxAbsError(y, ref.y)}`);
    t.true(maxAbsError(dW, ref.dW) <= float32Tolerance(ref.dW, shape[0] * ci.outHeight * ci.outWidth), `dW error ${maxAbsError(dW, ref.dW)}`);
    t.true(y.some((v) => v === 0) && y.some((v) => v > 0), 'the ReLU clamps some outputs and keeps others');
  });
}

test('the direct loop takes pixels in chunks of 64 KB of window floats, in multiples of 4', (t) => {
  t.is(directChunk(3 * 3 * 160), 8); // the tail case above: 27 pixels = 8 + 8 + 8 + 3
  t.is(directChunk(3 * 3 * 16), 112);
  t.is(directChunk(3 * 3 * 64), 28);
  t.is(directChunk(1), 16384);
  t.is(directChunk(1e6), 4);
});

test("simdFma 'auto' runs the fused multiply-add build on this Node, and it rounds differently from mul+add", (t) => {
  setSimdConvFma('auto');
  t.is(simdConvBuild(), 'relaxed');
  const ci = info([2, 9, 8, 6], [3, 3, 6, 10], 2, 'valid');
  const x = seededValues(tf.util.sizeFromShape([2, 9, 8, 6]), 1);
  const w = seededValues(3 * 3 * 6 * 10, 2);
  const run = (mode: SimdFma) => {
    setSimdConvFma(mode);
    return Float32Array.from(simdConv2D(x, w, ci));
  };
  const fused = run('relaxed');
  const plain = run('off');
  setSimdConvFma('auto');
  // One rounding per product instead of two: some of the 320 outputs must differ in their last bits.
  const differ = fused.filter((v, i) => v !== plain[i]).length;
  t.true(differ > 0, 'the relaxed build is not the mul+add build');
  t.true(maxAbsError(fused, Float64Array.from(plain)) < 1e-5, `builds differ by ${maxAbsError(fused, Float64Array.from(plain))}`);
  t.throws(() => setSimdConvFma('fast' as SimdFma), { message: /simdFma must be 'auto', 'relaxed' or 'off'/ });
});

test('a call beyond wasm32 memory fails naming the fixes, and the loops keep working', (t) => {
  const small = info([1, 4, 4, 16], [3, 3, 16, 8], 1, 'same');
  simdConv2D(seededValues(256, 5), seededValues(9 * 16 * 8, 6), small);
  const before = simdConvMemoryBytes();
  // 1 x 40000 x 40000 x 1: 6.4 GB of padded input, refused before any copy (x itself is never read).
  const huge = info([1, 40000, 40000, 1], [3, 3, 1, 8], 1, 'same');
  t.throws(() => simdConv2D(new Float32Array(1), new Float32Array(72), huge), { message: /microBatch.*registerWasmTrainingKernels\(\{ convKernels: 'xnnpack' \}\)/s });
  t.is(simdConvMemoryBytes(), before);
  const y = simdConv2D(seededValues(256, 5), seededValues(9 * 16 * 8, 6), small);
  t.is(y.length, 4 * 4 * 8);
});
