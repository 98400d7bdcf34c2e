// One worker of bench/data-parallel.ts: the plain loop's MoCo step (bench/plain-loop.ts) on its share of the
// batch, with the gradients averaged and the keys gathered through shared memory, so every worker applies the
// same update and stays an exact replica (the paper's multi-GPU setting; BatchNorm per worker = per GPU).
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/kernels/index.js';
import { resnet18Cifar, smallConvNet } from '../src/models/index.js';
import { inputShape, Lcg, type ModelId } from './common.js';
import { cropFlip, l2n, plainEncoders } from './plain-loop.js';

interface Job {
  rank: number;
  workers: number;
  /** Parts this worker computes one after another (W = 1 with parts = 2 replays what 2 workers compute). */
  parts: number;
  model: ModelId;
  batch: number;
  queue: number;
  steps: number;
  grads: SharedArrayBuffer;
  keys: SharedArrayBuffer;
  losses: SharedArrayBuffer;
  barrier: SharedArrayBuffer;
}
const job = workerData as Job & { entry: string };
const TAU = 0.07;
const M = 0.999;
const WD = 1e-4;
const DIM = 128;

/** Sense-reversing barrier over [count, generation]. */
function barrier(state: Int32Array, parties: number): void {
  if (parties === 1) return;
  const generation = Atomics.load(state, 1);
  if (Atomics.add(state, 0, 1) === parties - 1) {
    Atomics.store(state, 0, 0);
    Atomics.add(state, 1, 1);
    Atomics.notify(state, 1);
  } else {
    while (Atomics.load(state, 1) === generation) Atomics.wait(state, 1, generation);
  }
}

await selectBackend({ prefer: 'wasm', needsTraining: true });
const make = (name: string) => (job.model === 'small' ? smallConvNet({ seed: 1, name }) : resnet18Cifar({ width: job.model === 'r18w16' ? 16 : 64, seed: 1, name }));
const { query, key } = await plainEncoders(make, 'fastbn', 'dp');
const qVars = query.trainableWeights.map((w) => w.read() as tf.Variable);
const kVars = key.trainableWeights.map((w) => w.read() as tf.Variable);
const sizes = qVars.map((v) => v.size);
const total = sizes.reduce((a, b) => a + b, 0);
const optimizer = tf.train.momentum(0.03, 0.9);
const queue = tf.tidy(() => tf.variable(l2n(tf.randomNormal([job.queue, DIM], 0, 1, 'float32', 5)), false));
let pointer = 0;
const rng = new Lcg(3);
const images = tf.randomUniform(inputShape(job.model, job.batch), 0, 1, 'float32', 7) as tf.Tensor4D;
const gradBuf = new Float32Array(job.grads);
const keyBuf = new Float32Array(job.keys);
const lossBuf = new Float32Array(job.losses);
const sync = new Int32Array(job.barrier);
const shares = job.workers * job.parts;
const share = job.batch / shares;

function step(): number {
  tf.tidy(() => {
    // Every worker draws the same views of the whole batch (same seeded generator), then takes its part.
    const v1 = cropFlip(images, rng);
    const v2 = cropFlip(images, rng);
    for (let p = 0; p < job.parts; p++) {
      const slot = job.rank * job.parts + p;
      tf.tidy(() => {
        const a = tf.slice(v1, slot * share, share);
        const b = tf.slice(v2, slot * share, share);
        const k = l2n(key.apply(b, { training: true }) as tf.Tensor2D);
        const { value, grads } = tf.variableGrads(() => {
          const q = l2n(query.apply(a, { training: true }) as tf.Tensor2D);
          const pos = tf.sum(tf.mul(q, k), 1, true);
          const neg = tf.matMul(q, queue, false, true);
          const logits = tf.div(tf.concat([pos, neg], 1), TAU);
          return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.div(pos, TAU), [1]))) as tf.Scalar;
        }, qVars);
        let offset = slot * total;
        for (const v of qVars) {
          gradBuf.set(grads[v.name].dataSync() as Float32Array, offset);
          offset += v.size;
        }
        keyBuf.set(k.dataSync() as Float32Array, slot * share * DIM);
        lossBuf[slot] = value.dataSync()[0];
      });
    }
  });
  barrier(sync, job.workers);
  // Every worker averages the same numbers in the same order: identical updates, exact replicas.
  tf.tidy(() => {
    const mean = new Float32Array(total);
    for (let s = 0; s < shares; s++) for (let i = 0; i < total; i++) mean[i] += gradBuf[s * total + i] / shares;
    const decayed: tf.NamedTensorMap = {};
    let offset = 0;
    qVars.forEach((v, i) => {
      decayed[v.name] = tf.add(tf.tensor(mean.subarray(offset, offset + sizes[i]), v.shape), tf.mul(v, WD));
      offset += sizes[i];
    });
    optimizer.applyGradients(decayed as unknown as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
    for (let i = 0; i < qVars.length; i++) kVars[i].assign(tf.add(tf.mul(kVars[i], M), tf.mul(qVars[i], 1 - M)));
    const k = tf.tensor2d(keyBuf.slice(0, job.batch * DIM), [job.batch, DIM]);
    const parts: tf.Tensor[] = [];
    if (pointer > 0) parts.push(tf.slice(queue, [0, 0], [pointer, -1]));
    parts.push(k);
    if (pointer + job.batch < job.queue) parts.push(tf.slice(queue, [pointer + job.batch, 0], [job.queue - pointer - job.batch, -1]));
    queue.assign(tf.concat(parts, 0) as tf.Tensor2D);
    pointer = (pointer + job.batch) % job.queue;
  });
  let loss = 0;
  for (let s = 0; s < shares; s++) loss += lossBuf[s] / shares;
  // Nobody writes the shared buffers of the next step before everyone has read this one's.
  barrier(sync, job.workers);
  return loss;
}

const times: number[] = [];
const losses: number[] = [];
for (let i = 0; i < job.steps; i++) {
  const t0 = performance.now();
  losses.push(step());
  times.push(performance.now() - t0);
}
const checksum = tf.tidy(() => qVars.map((v) => tf.sum(tf.abs(v)).dataSync()[0]).reduce((a, b) => a + b, 0));
parentPort!.postMessage({ rank: job.rank, times, losses, checksum, numTensors: tf.memory().numTensors });
