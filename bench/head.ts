// `npx tsx bench/head.ts [--backend wasm|cpu] [--k 4096,16384,65536]`: the dictionary + loss part of a
// MoCo step (queue similarities and InfoNCE, forward and backward to the queries), N 128, d 128,
// written two ways: the plain autodiff expression (tf.matMul(q, queue, false, true), concat, then
// tf.logSumExp) and the library's (similarityToKeys + InfoNceLoss, both with hand-written gradients).
// Prints a markdown table and the command that made it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import { similarityToKeys } from '../src/math/similarity-to-keys.js';
import { InfoNceLoss } from '../plugins/loss/infonce/infonce-loss.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const backend = opt('backend', 'wasm');
const sizes = opt('k', '4096,16384,65536').split(',').map(Number);
await tf.setBackend(backend);
const N = 128;
const D = 128;
const TAU = 0.07;

function medianMs(f: () => tf.Tensor[], reps: number): number {
  for (let i = 0; i < 2; i++) tf.dispose(tf.tidy(f));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    tf.dispose(tf.tidy(f));
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(reps / 2)];
}

/** The obvious expression, differentiated op by op by tfjs. */
function autodiffLoss(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D): tf.Scalar {
  const positive = tf.sum(tf.mul(q, k), 1, true);
  const logits = tf.div(tf.concat([positive, tf.matMul(q, queue, false, true)], 1), TAU);
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.div(positive, TAU), [1]))) as tf.Scalar;
}

const loss = new InfoNceLoss(TAU, false);
function libraryLoss(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D): tf.Scalar {
  return loss.compute(tf.sum(tf.mul(q, k), 1, true) as tf.Tensor2D, similarityToKeys(q, queue)).loss;
}

const rows: string[] = [];
for (const K of sizes) {
  const q = tf.randomNormal([N, D], 0, 1, 'float32', 1) as tf.Tensor2D;
  const k = tf.randomNormal([N, D], 0, 1, 'float32', 2) as tf.Tensor2D;
  const queue = tf.randomNormal([K, D], 0, 1, 'float32', 3) as tf.Tensor2D;
  const grad = (f: typeof libraryLoss) => () => tf.grads((x: tf.Tensor) => f(x as tf.Tensor2D, k, queue))([q]);
  const reps = K > 16384 ? 5 : 9;
  const a = medianMs(grad(autodiffLoss), reps);
  const b = medianMs(grad(libraryLoss), reps);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(grad(autodiffLoss)()[0], grad(libraryLoss)()[0]))).dataSync()[0]);
  rows.push(`| ${backend} | ${K} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(1)}× | ${diff.toExponential(1)} |`);
  tf.dispose([q, k, queue]);
}
console.log(`Command: \`npx tsx bench/head.ts ${argv.join(' ')}\`  (N ${N}, d ${D}, τ ${TAU}, median ms of forward + backward to q)\n`);
console.log('| backend | K | autodiff ms | library ms | speed-up | max abs Δ ∂q |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
