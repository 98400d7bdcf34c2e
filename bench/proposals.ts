// Micro-benchmarks for optimisation candidates: each times the library's
// current way of doing one part of the MoCo step against alternatives, on one backend, with the
// shapes of the bench's models. Nothing here is used by the library.
//
//   npx tsx bench/proposals.ts --backend wasm|cpu [--batch 128] [--reps 5] [--only fastbn,bn,head,ema,enqueue,aug,groupbn,tile,slice]
//
// Times are medians of --reps runs after one warm-up, in ms (cpu/wasm run kernels synchronously;
// every timed call also reads one value back). Gradient checks print the max abs difference.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/kernels/index.js';
import { resnet18Cifar } from '../src/models/index.js';
import { Random, l2Normalize } from '../src/index.js';
import { CropFlipAugmentation, InfoNceLoss, MocoV1Augmentation, MomentumUpdate, QueueDictionary } from '../plugins/index.js';
import { GroupBatchNormalization } from '../src/layers/index.js';
import { load1, median } from './common.js';
import { withFastBatchNorm } from './fast-batchnorm.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const backendName = arg('backend', 'wasm') as 'wasm' | 'cpu';
const N = Number(arg('batch', '128'));
const reps = Number(arg('reps', '5'));
const only = arg('only', 'fastbn,bn,head,ema,enqueue,aug,groupbn,tile,slice').split(',');
const K = 4096;
const D = 128;
const TAU = 0.07;

await selectBackend({ prefer: backendName, needsTraining: true });
console.log(`# proposals on ${tf.getBackend()}, batch ${N}, K ${K}, median of ${reps} (ms); load ${load1()}`);

/** Median ms of f(); f returns tensors that are read (one value each) and disposed. */
function time(f: () => tf.Tensor | tf.Tensor[] | void, n = reps): number {
  const ts: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    const out = f();
    const list = out == null ? [] : Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync();
    const dt = performance.now() - t0;
    tf.dispose(list);
    if (i > 0) ts.push(dt);
  }
  return median(ts);
}

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const line = (...cells: (string | number)[]) => console.log(cells.map((c) => (typeof c === 'number' ? c.toFixed(1) : c)).join(' | '));

// ---------------------------------------------------------------------------------------------
// BatchNorm in training mode, forward + backward. "tfl" is what tfjs-layers' BatchNormalization
// does (tf.moments, then tf.batchNorm; autodiff through both: FusedBatchNorm's gradient tiles
// 1/sigma to the full activation shape, and Mean's gradient materialises ones(x.shape)). "custom"
// is one tf.customGrad with the textbook backward dx = gamma/sigma * (dy - mean(dy) - xhat*mean(dy*xhat)).
function bnTfl(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
}
const bnCustom = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const axes = [0, 1, 2];
  const mean = tf.mean(x, axes);
  const variance = tf.mean(tf.squaredDifference(x, mean), axes);
  const inv = tf.rsqrt(tf.add(variance, 1e-5));
  const y: tf.Tensor = tf.batchNorm(x as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5);
  save([x, mean, inv, gamma]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const g = dy;
      const [xs, m, s, gm] = saved;
      const n = xs.size / xs.shape[3]!;
      const xhat = tf.mul(tf.sub(xs, m), s);
      const dbeta = tf.sum(g, axes);
      const dgamma = tf.sum(tf.mul(g, xhat), axes);
      const dx = tf.mul(tf.mul(gm, s), tf.sub(tf.sub(g, tf.div(dbeta, n)), tf.mul(xhat, tf.div(dgamma, n))));
      return [dx, dgamma, dbeta];
    },
  };
});

async function benchBn(): Promise<void> {
  console.log('\n## BatchNorm train fwd+bwd: tfjs-layers formulation (autodiff) vs customGrad');
  line('x shape', 'tfl ms', 'custom ms', 'ratio', 'max|d dx|', 'kernels tfl', 'kernels custom');
  const shapes: [number, number, number, number][] = [
    [N, 32, 32, 16],
    [N, 16, 16, 32],
    [N, 8, 8, 64],
    [N, 4, 4, 128],
    [N, 28, 28, 16],
    [N, 32, 32, 64],
  ];
  for (const shape of shapes) {
    const c = shape[3];
    const x = tf.randomNormal(shape, 0.3, 2, 'float32', 1) as tf.Tensor4D;
    const dyW = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const gamma = tf.randomUniform([c], 0.5, 1.5, 'float32', 3) as tf.Tensor1D;
    const beta = tf.randomNormal([c], 0, 1, 'float32', 4) as tf.Tensor1D;
    const loss = (f: (a: tf.Tensor4D, b: tf.Tensor1D, c: tf.Tensor1D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor, cc: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor1D, cc as tf.Tensor1D), dyW)) as tf.Scalar;
    const gTfl = tf.grads(loss(bnTfl));
    const gCus = tf.grads(loss((a, b, cc) => bnCustom(a, b, cc)));
    const tTfl = time(() => gTfl([x, gamma, beta]));
    const tCus = time(() => gCus([x, gamma, beta]));
    const [a, b] = [gTfl([x, gamma, beta]), gCus([x, gamma, beta])];
    const err = Math.max(...a.map((t, i) => maxAbs(t, b[i])));
    const count = async (f: () => tf.Tensor[]) => (await tf.profile(() => { tf.dispose(f()); })).kernels.filter((k) => !k.name.endsWith('__op')).length;
    const k1 = await count(() => gTfl([x, gamma, beta]));
    const k2 = await count(() => gCus([x, gamma, beta]));
    line(shape.join('x'), tTfl, tCus, `${(tTfl / tCus).toFixed(2)}×`, err.toExponential(1), k1, k2);
    tf.dispose([...a, ...b, x, dyW, gamma, beta]);
  }
}

// ---------------------------------------------------------------------------------------------
// wasm's Slice starts with backend.readSync(x), which copies the WHOLE input out of the wasm heap
// into a fresh ArrayBuffer, then copies the slice. A view (typedArrayFromHeap-style subarray of
// HEAPF32, taken after the output is allocated, since allocation may grow and detach the heap)
// needs only the second copy. Slices in a step: the queue's enqueue, SplitV (concat's gradient),
// the dW polyfill's crop of stride-2 inputs.
interface WasmLike {
  readSync(id: unknown): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  wasm: { HEAPF32: Float32Array };
}
function sliceView(x: tf.Tensor, begin: number[], size: number[]): tf.Tensor {
  const backend = tf.backend() as unknown as WasmLike;
  const out = backend.makeOutput(size, x.dtype);
  const heap = backend.wasm.HEAPF32;
  const xOff = backend.dataIdMap.get((x as unknown as { dataId: unknown }).dataId).memoryOffset / 4;
  const oOff = backend.dataIdMap.get(out.dataId).memoryOffset / 4;
  const strides = tf.util.computeStrides(x.shape);
  // Copy runs of the innermost axis (rank 2 and 4 cover the step's slices).
  const inner = size[size.length - 1];
  const outer = size.slice(0, -1);
  const idx = new Array(outer.length).fill(0);
  let o = oOff;
  const total = outer.reduce((a, b) => a * b, 1);
  for (let r = 0; r < total; r++) {
    let src = xOff + begin[begin.length - 1];
    for (let d = 0; d < outer.length; d++) src += (begin[d] + idx[d]) * strides[d];
    heap.copyWithin(o, src, src + inner);
    o += inner;
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
  return tf.engine().makeTensorFromTensorInfo(out);
}
function benchSlice(): void {
  console.log('\n## wasm Slice: stock (readSync copy of the whole input) vs a heap view');
  line('case', 'stock ms', 'view ms', 'equal');
  const cases: [string, number[], number[], number[]][] = [
    [`queue rows [${K},${D}] keep ${K - N}`, [K, D], [N, 0], [K - N, D]],
    [`logits grad [${N},${K + 1}] -> [${N},${K}]`, [N, K + 1], [0, 1], [N, K]],
    [`dW crop [${N},32,32,16] -> [${N},31,31,16]`, [N, 32, 32, 16], [0, 0, 0, 0], [N, 31, 31, 16]],
    [`dW crop [${N},32,32,64] -> [${N},31,31,64]`, [N, 32, 32, 64], [0, 0, 0, 0], [N, 31, 31, 64]],
  ];
  for (const [name, shape, begin, size] of cases) {
    const x = tf.randomNormal(shape);
    const tStock = time(() => tf.slice(x, begin, size));
    const tView = time(() => sliceView(x, begin, size));
    const [a, b] = [tf.slice(x, begin, size), sliceView(x, begin, size)];
    line(name, tStock, tView, maxAbs(a, b) === 0 ? 'yes' : 'NO');
    tf.dispose([x, a, b]);
  }
}

// ---------------------------------------------------------------------------------------------
// The library's one-group GroupBatchNormalization (hand-written gradient) inside a whole model: gradients of every trainable weight, outputs and
// moving statistics against tfjs-layers' BatchNormalization, ResNet-18 w16 at batch 16.
async function checkFastBn(): Promise<void> {
  console.log('\n## GroupBatchNormalization(1) vs tfl BatchNormalization in ResNet-18 w16 (b16): max |Δ| / max |ref|');
  const ref = resnet18Cifar({ width: 16, seed: 1 });
  const fast = await withFastBatchNorm(ref);
  const x = tf.randomUniform([16, 32, 32, 3], 0, 1, 'float32', 1);
  const w = tf.randomNormal([16, 128], 0, 1, 'float32', 2);
  const run = (m: typeof ref) => {
    const vars = m.trainableWeights.map((v) => v.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar, vars);
    return { value, grads: vars.map((v) => grads[v.name]), stats: m.nonTrainableWeights.map((v) => v.read()) };
  };
  const a = run(ref);
  const b = run(fast);
  const rel = (p: tf.Tensor, q: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(p)).dataSync()[0]));
  const gradErr = Math.max(...a.grads.map((g, i) => rel(g, b.grads[i])));
  const statErr = Math.max(...a.stats.map((s, i) => rel(s, b.stats[i])));
  line('loss ref', a.value.dataSync()[0].toFixed(5), 'loss fast', b.value.dataSync()[0].toFixed(5), 'max rel grad err', gradErr.toExponential(1), 'moving stats', statErr.toExponential(1));
  tf.dispose([x, w, a.value, b.value, ...a.grads, ...b.grads]);
  ref.dispose();
  fast.dispose();
}

// ---------------------------------------------------------------------------------------------
// The Tile that FusedBatchNorm's gradient runs ([1,1,1,C] repeated to [N,H,W,C]) against the same
// values made by a broadcasting multiply (what a custom gradient would use instead).
function benchTile(): void {
  console.log('\n## Tile [1,1,1,C] -> [N,H,W,C] (from FusedBatchNorm grad) vs broadcast mul(dy, s)');
  line('shape', 'Tile ms', 'Tile+Mul ms', 'broadcast Mul ms');
  for (const shape of [[N, 32, 32, 16], [N, 16, 16, 32], [N, 32, 32, 64]] as [number, number, number, number][]) {
    const c = shape[3];
    const s = tf.randomUniform([1, 1, 1, c]);
    const dy = tf.randomNormal(shape);
    const tTile = time(() => tf.tile(s, [shape[0], shape[1], shape[2], 1]));
    const tTileMul = time(() => tf.tidy(() => tf.mul(dy, tf.tile(s, [shape[0], shape[1], shape[2], 1]))));
    const tMul = time(() => tf.mul(dy, s));
    line(shape.join('x'), tTile, tTileMul, tMul);
    tf.dispose([s, dy]);
  }
}

// ---------------------------------------------------------------------------------------------
// The dictionary head, forward + backward to q, and the enqueue that goes with each layout.
//   A: the library: queue [K,d], matMul(q, queue, false, true), concat + logSumExp + accuracy (max)
//   B: queue [d,K] (MoCo's reference layout), matMul(q, queueT), same loss
//   C: customGrad InfoNCE head: softmax − onehot in the backward (no concat/split/Max-mask grads);
//      forward matmul on [d,K], backward matmul on [K,d]: both XNNPACK no-transpose on wasm
function headA(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D): tf.Scalar {
  const dict = { negativeSimilarities: (qq: tf.Tensor2D) => tf.matMul(qq, queue, false, true) as tf.Tensor2D };
  const positive = tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D;
  return new InfoNceLoss(TAU, false).compute(positive, dict.negativeSimilarities(q)).loss;
}
function headB(q: tf.Tensor2D, k: tf.Tensor2D, queueT: tf.Tensor2D): tf.Scalar {
  const positive = tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D;
  return new InfoNceLoss(TAU, false).compute(positive, tf.matMul(q, queueT) as tf.Tensor2D).loss;
}
function makeHeadC(queue: tf.Tensor2D, queueT: tf.Tensor2D) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [q, k, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const pos = tf.sum(tf.mul(q, k), 1, true);
    const neg = tf.matMul(q as tf.Tensor2D, queueT);
    const logits = tf.div(tf.concat([pos, neg], 1), TAU);
    const lse = tf.logSumExp(logits, 1, true);
    const value = tf.mean(tf.sub(tf.squeeze(lse, [1]), tf.squeeze(tf.div(pos, TAU), [1])));
    save([q, k, logits, lse]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, ks, lg, ls] = saved;
        const n = qs.shape[0];
        // dL/dlogits = (softmax − onehot(0)) / n ; dq = (dpos·k + dneg·queue) / τ
        const p = tf.exp(tf.sub(lg, ls));
        const scale = tf.div(dy, n * TAU);
        const dpos = tf.sub(tf.slice(p, [0, 0], [-1, 1]), 1);
        const dneg = tf.slice(p, [0, 1], [-1, -1]);
        const dq = tf.mul(tf.add(tf.mul(dpos, ks), tf.matMul(dneg as tf.Tensor2D, queue)), scale);
        return [dq, tf.zerosLike(ks)];
      },
    };
  });
}

function benchHead(): void {
  console.log(`\n## Dictionary head fwd+bwd to q (N ${N}, K ${K}, d ${D}) and enqueue`);
  const q = tf.tidy(() => l2Normalize(tf.randomNormal([N, D], 0, 1, 'float32', 1))) as tf.Tensor2D;
  const k = tf.tidy(() => l2Normalize(tf.randomNormal([N, D], 0, 1, 'float32', 2))) as tf.Tensor2D;
  const queue = tf.variable(tf.tidy(() => l2Normalize(tf.randomNormal([K, D], 0, 1, 'float32', 3))), false) as tf.Variable<tf.Rank.R2>;
  const queueT = tf.variable(tf.transpose(queue), false) as tf.Variable<tf.Rank.R2>;
  const gA = tf.grad((qq: tf.Tensor) => headA(qq as tf.Tensor2D, k, queue));
  const gB = tf.grad((qq: tf.Tensor) => headB(qq as tf.Tensor2D, k, queueT));
  const headC = makeHeadC(queue, queueT);
  const gC = tf.grad((qq: tf.Tensor) => headC(qq, k) as tf.Scalar);
  const fA = time(() => tf.tidy(() => headA(q, k, queue)));
  const fB = time(() => tf.tidy(() => headB(q, k, queueT)));
  const tA = time(() => gA(q));
  const tB = time(() => gB(q));
  const tC = time(() => gC(q));
  const [a, b, c] = [gA(q), gB(q), gC(q)];
  line('variant', 'fwd ms', 'fwd+bwd ms', 'max|Δ dq| vs A');
  line('A [K,d] transposed matmul (library)', fA, tA, 0);
  line('B [d,K] no-transpose matmul', fB, tB, maxAbs(a, b).toExponential(1));
  line('C customGrad head, both layouts', NaN, tC, maxAbs(a, c).toExponential(1));
  tf.dispose([a, b, c]);

  // Enqueue of N keys at a pointer that moves like the library's.
  const dict = new QueueDictionary({ size: K }, new Random(1), { warn: () => undefined });
  dict.setup({ dim: D, batchSize: N });
  const ctx = { epoch: 0, step: 0, progress: 0, random: new Random(1) };
  const tLib = time(() => {
    dict.update({ keys: k, queries: q });
    return tf.slice(dict.keys, [0, 0], [1, 1]);
  });
  let p = 0;
  const colsConcat = () => {
    const parts: tf.Tensor[] = [];
    if (p > 0) parts.push(tf.slice(queueT, [0, 0], [-1, p]));
    parts.push(tf.transpose(k));
    if (p + N < K) parts.push(tf.slice(queueT, [0, p + N], [-1, K - p - N]));
    queueT.assign(tf.concat(parts, 1) as tf.Tensor2D);
    p = (p + N) % K;
  };
  const tCols = time(() => {
    tf.tidy(colsConcat);
    return tf.slice(queueT, [0, 0], [1, 1]);
  });
  line('enqueue', 'ms');
  line('[K,d] concat of row slices (library QueueDictionary.update)', tLib);
  line('[d,K] concat of column slices', tCols);
  if (tf.getBackend() === 'cpu') {
    // In place: write the keys into the queue's backing Float32Array (cpu only; on wasm XNNPACK
    // caches packed matmul/conv operands by data id and would keep the old values).
    const backend = tf.backend() as unknown as { data: { get: (id: unknown) => { values: Float32Array } } };
    let ptr = 0;
    const tIn = time(() => {
      const vals = backend.data.get((queue as unknown as { dataId: unknown }).dataId).values;
      vals.set(k.dataSync() as Float32Array, ptr * D);
      ptr = (ptr + N) % K;
      return tf.slice(queue, [0, 0], [1, 1]);
    });
    line('[K,d] in place into the Float32Array (cpu)', tIn);
  }
  tf.dispose([q, k, queue, queueT]);
  dict.dispose();
}

// ---------------------------------------------------------------------------------------------
// EMA of the key encoder over the trainable weights of ResNet-18 w16 / w64.
function benchEma(): void {
  console.log('\n## EMA θk ← mθk + (1−m)θq over the trainable weights');
  line('model', 'vars', 'params', 'per-variable (library) ms', 'concat→EMA→split ms', 'in-place Float32Array ms (cpu)');
  for (const width of [16, 64]) {
    const model = resnet18Cifar({ width, seed: 1 });
    const qv = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const kv = qv.map((v) => tf.variable(tf.mul(v, 1), false));
    const pairs = qv.map((query, i) => ({ query, key: kv[i] }));
    const params = qv.reduce((s, v) => s + v.size, 0);
    const update = new MomentumUpdate('momentum', 0.999);
    const ctx = { epoch: 0, step: 0, progress: 0, random: new Random(1) };
    const tLib = time(() => {
      update.apply(pairs, ctx);
      return tf.slice(kv[0], [0, 0, 0, 0], [1, 1, 1, 1]);
    });
    const tFused = time(() => {
      tf.tidy(() => {
        const flatK = tf.concat(kv.map((v) => tf.reshape(v, [-1])));
        const flatQ = tf.concat(qv.map((v) => tf.reshape(v, [-1])));
        const next = tf.add(tf.mul(flatK, 0.999), tf.mul(flatQ, 0.001));
        const parts = tf.split(next, kv.map((v) => v.size));
        kv.forEach((v, i) => v.assign(tf.reshape(parts[i], v.shape)));
      });
      return tf.slice(kv[0], [0, 0, 0, 0], [1, 1, 1, 1]);
    });
    let tIn = NaN;
    if (tf.getBackend() === 'cpu') {
      const backend = tf.backend() as unknown as { data: { get: (id: unknown) => { values: Float32Array } } };
      const arr = (v: tf.Tensor) => backend.data.get((v as unknown as { dataId: unknown }).dataId).values;
      tIn = time(() => {
        for (const p of pairs) {
          const kk = arr(p.key);
          const qq = arr(p.query);
          for (let i = 0; i < kk.length; i++) kk[i] = 0.999 * kk[i] + 0.001 * qq[i];
        }
        return tf.slice(kv[0], [0, 0, 0, 0], [1, 1, 1, 1]);
      });
    }
    line(`r18w${width}`, qv.length, params, tLib, tFused, tIn);
    tf.dispose(kv);
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
function benchAug(): void {
  console.log('\n## Augmentation, two views of a batch (crop-flip is the bench default; mocov1 is the default preset)');
  line('input', 'crop-flip ms', 'mocov1 (crop, gray, jitter, flip) ms');
  const random = new Random(1);
  const ctx = { epoch: 0, step: 0, progress: 0, random };
  const cf = new CropFlipAugmentation({ scale: [0.2, 1], ratio: [3 / 4, 4 / 3] }, 0.5);
  const v1 = new MocoV1Augmentation({ scale: [0.2, 1], ratio: [3 / 4, 4 / 3], brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4, jitter: 1, grayscale: 0.2, flip: 0.5 });
  for (const shape of [[N, 28, 28, 1], [N, 32, 32, 3]] as [number, number, number, number][]) {
    const x = tf.randomUniform(shape) as tf.Tensor4D;
    const tCf = time(() => cf.views(x, ctx));
    const tV1 = time(() => v1.views(x, ctx));
    line(shape.join('x'), tCf, tV1);
    x.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Shuffle BN's GroupBatchNormalization (split into G, per-group moments + batchNorm, concat)
// against the same statistics from one reshape to [G, N/G, H, W, C].
function benchGroupBn(): void {
  console.log('\n## Group (shuffle) BN, G = 8, train fwd+bwd: GroupBatchNormalization (split/concat) vs reshape');
  line('x shape', 'plain BN (tfl) ms', 'GroupBN layer ms', 'reshape-based ms', 'max|Δ dx|');
  for (const shape of [[N, 32, 32, 16], [N, 16, 16, 32], [N, 8, 8, 64]] as [number, number, number, number][]) {
    const [n, h, w, c] = shape;
    const g = 8;
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
    const dyW = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const layer = new GroupBatchNormalization({ groups: g, epsilon: 1e-5 });
    layer.apply(tf.zeros([2, h, w, c]), { training: false });
    const [gamma, beta] = [layer.weights[0].read(), layer.weights[1].read()];
    const viaLayer = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, dyW)) as tf.Scalar;
    const viaReshape = (xx: tf.Tensor) => {
      const x5 = tf.reshape(xx, [g, n / g, h, w, c]);
      const { mean, variance } = tf.moments(x5, [1, 2, 3], true);
      const y = tf.add(tf.mul(tf.mul(tf.sub(x5, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
      return tf.sum(tf.mul(tf.reshape(y, shape), dyW)) as tf.Scalar;
    };
    const viaPlain = (xx: tf.Tensor) => tf.sum(tf.mul(bnTfl(xx as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D), dyW)) as tf.Scalar;
    const gl = tf.grad(viaLayer);
    const gr = tf.grad(viaReshape);
    const gp = tf.grad(viaPlain);
    const tP = time(() => gp(x));
    const tL = time(() => gl(x));
    const tR = time(() => gr(x));
    const [a, b] = [gl(x), gr(x)];
    line(shape.join('x'), tP, tL, tR, maxAbs(a, b).toExponential(1));
    tf.dispose([a, b, x, dyW]);
    layer.dispose();
  }
}

if (only.includes('slice') && tf.getBackend() === 'wasm') benchSlice();
if (only.includes('fastbn')) await checkFastBn();
if (only.includes('bn')) await benchBn();
if (only.includes('tile')) benchTile();
if (only.includes('head') || only.includes('enqueue')) benchHead();
if (only.includes('ema')) benchEma();
if (only.includes('aug')) benchAug();
if (only.includes('groupbn')) benchGroupBn();
console.log(`\n(load at end ${load1()})`);
