// Micro-benchmark of the conv kernels in src/kernels: on wasm, the forward conv and both gradients
// on the library's SIMD loops against XNNPACK (forward: XNNPACK's Conv2D; dW: the XNNPACK conv
// formulation; dX: the conv formulation on either), dX also against wasm's stock scalar loop; on
// cpu, Conv2DBackpropFilter stock vs replacement. GFLOP/s = 2 x MACs / time.
// Run: npx tsx bench/kernels.ts [--batch 32] [--reps 5] [--only dx|dw|cpu]
// Shapes follow CIFAR ResNet-18 at width 16 and 64 (3x3 convs, 'same'; stride 2 where the
// resolution halves). Times are medians of --reps runs after one warm-up, in ms.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuTrainingKernels, stockConv2DBackpropFilter } from '../src/kernels/cpu-training-kernels.js';
import { registerWasmTrainingKernels } from '../src/kernels/wasm-training-kernels.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const batch = Number(arg('batch', '32'));
const reps = Number(arg('reps', '5'));
const only = arg('only', 'all');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median ms of `f` after a warm-up. cpu and wasm kernels run synchronously when dispatched, so the
 * call alone is timed; the read-back comes after (it cost 2-50 ms for a 16 MB output, depending on
 * whether the host had to fault in fresh pages, and is the same for every kernel compared).
 */
function time(f: () => tf.Tensor, n = reps): number {
  const ts: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    const out = f();
    const dt = performance.now() - t0;
    out.dataSync();
    out.dispose();
    if (i > 0) ts.push(dt);
  }
  return median(ts);
}

interface Case {
  h: number;
  cin: number;
  cout: number;
  stride: number;
  k: number;
}

const CASES: Case[] = [
  // width 16
  { h: 32, cin: 16, cout: 16, stride: 1, k: 3 },
  { h: 32, cin: 16, cout: 32, stride: 2, k: 3 },
  { h: 16, cin: 32, cout: 32, stride: 1, k: 3 },
  { h: 8, cin: 64, cout: 64, stride: 1, k: 3 },
  { h: 4, cin: 128, cout: 128, stride: 1, k: 3 },
  // width 64
  { h: 32, cin: 64, cout: 64, stride: 1, k: 3 },
  { h: 32, cin: 64, cout: 128, stride: 2, k: 3 },
  { h: 32, cin: 64, cout: 128, stride: 2, k: 1 },
  { h: 16, cin: 128, cout: 128, stride: 1, k: 3 },
  { h: 8, cin: 256, cout: 256, stride: 1, k: 3 },
  { h: 4, cin: 512, cout: 512, stride: 1, k: 3 },
];

function tensors(c: Case, n: number) {
  const info = tf.backend_util.computeConv2DInfo([n, c.h, c.h, c.cin], [c.k, c.k, c.cin, c.cout], c.stride, 1, 'same');
  const x = tf.randomNormal([n, c.h, c.h, c.cin]) as tf.Tensor4D;
  const w = tf.randomNormal([c.k, c.k, c.cin, c.cout]) as tf.Tensor4D;
  const dy = tf.randomNormal(info.outShape) as tf.Tensor4D;
  return { x, w, dy };
}

const label = (c: Case) => `${c.k}x${c.k} s${c.stride} ${c.h}x${c.h}x${c.cin}->${c.cout}`;

async function benchWasm(): Promise<void> {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
  console.log(`wasm, batch ${batch}, median of ${reps}: ms (GFLOP/s); simd = the library's SIMD loops, xnn = XNNPACK`);
  console.log('case | fwd simd | fwd xnn | dW simd | dW xnn | dX simd | dX xnn | dX stock loop');
  for (const c of CASES) {
    const { x, w, dy } = tensors(c, batch);
    const info = tf.backend_util.computeConv2DInfo(x.shape, w.shape, c.stride, 1, 'same');
    const gflop = (2 * batch * info.outHeight * info.outWidth * c.k * c.k * c.cin * c.cout) / 1e6;
    const cell = (ms: number) => (Number.isNaN(ms) ? '—' : `${ms.toFixed(1)} (${(gflop / ms).toFixed(0)})`);
    const attrs = { inputShape: x.shape, strides: c.stride, pad: 'same', dataFormat: 'NHWC' };
    const dwAttrs = { filterShape: w.shape, strides: c.stride, pad: 'same', dataFormat: 'NHWC' };
    const fwd = () => tf.conv2d(x, w, c.stride, 'same');
    const dW = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, dwAttrs) as tf.Tensor;
    const dX = () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs) as tf.Tensor;
    const row: string[] = [];
    for (const part of [fwd, dW, dX]) {
      for (const kernels of ['simd', 'xnnpack'] as const) {
        registerWasmTrainingKernels({ convKernels: kernels });
        const skip = (only === 'dw' && part !== dW) || (only === 'dx' && part !== dX);
        row.push(cell(skip ? NaN : time(part)));
      }
    }
    registerWasmTrainingKernels({ backpropInputPolicy: 'stock' });
    row.push(cell(only === 'dw' ? NaN : time(dX)));
    registerWasmTrainingKernels();
    console.log(`${label(c)} | ${row.join(' | ')}`);
    tf.dispose([x, w, dy]);
  }
}

async function benchCpu(): Promise<void> {
  await tf.setBackend('cpu');
  registerCpuTrainingKernels();
  // The stock kernel needs ~10 s for one [16,32,32,16] 3x3 case, so the cpu part stays small.
  const n = Math.min(batch, 8);
  console.log(`cpu Conv2DBackpropFilter, batch ${n}, median of 3 (ms)`);
  console.log('case | stock | replacement | ratio');
  const backend = tf.backend();
  for (const c of CASES.filter((k) => k.cin * k.cout <= 32 * 32)) {
    const { x, w, dy } = tensors(c, n);
    const attrs = { filterShape: w.shape, strides: c.stride, pad: 'same', dataFormat: 'NHWC' };
    const stock = stockConv2DBackpropFilter();
    const tStock = time(() => {
      const info = stock.kernelFunc({ inputs: { x, dy }, backend, attrs }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    }, 3);
    const tNew = time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor, 3);
    console.log(`${label(c)} | ${tStock.toFixed(1)} | ${tNew.toFixed(1)} | ${(tStock / tNew).toFixed(1)}`);
    tf.dispose([x, w, dy]);
  }
}

if (only !== 'cpu') await benchWasm();
if (only === 'all' || only === 'cpu') await benchCpu();
