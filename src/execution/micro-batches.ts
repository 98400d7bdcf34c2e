// Gradient accumulation: the loss and gradients of a batch (or of a worker's share of one) computed in
// micro-batches, each weighted by its part of the batch, summed before the single optimizer step. The mean
// loss over the batch has the same gradient, since every micro-batch sees the same dictionary (updated after
// the step). BatchNorm then computes statistics per micro-batch, as per-GPU BN does in the paper's setting.
import * as tf from '@tensorflow/tfjs-core';
import { groupSizes } from '../layers/group-batch-normalization.js';
import { concatRows, type MocoStep, type StepGradients, type Views } from '../step/moco-step.js';
import type { StepContext } from '../strategies/step-context.js';

/** [start, size] of consecutive micro-batches of at most `limit` images (0: the whole batch), near-equal in size. */
export function microBatches(n: number, limit: number): [number, number][] {
  let start = 0;
  return groupSizes(n, limit > 0 ? Math.ceil(n / limit) : 1).map((size) => {
    const part: [number, number] = [start, size];
    start += size;
    return part;
  });
}

/**
 * `step.lossAndGradients` over `views` (a batch of `batchSize` images, or a share of one) in micro-batches of at
 * most `microBatch` images: gradients, loss and accuracy are sums weighted by size / batchSize, in micro-batch
 * order; keys and queries come back whole, rows in batch order, per view pair.
 */
export function lossAndGradientsInParts(
  step: MocoStep,
  views: Views,
  indices: tf.Tensor1D | undefined,
  ctx: StepContext,
  sizes: { batchSize: number; microBatch: number },
  encodedKeys?: tf.Tensor2D[],
): StepGradients {
  const [v1, v2] = views;
  const parts = microBatches(v1.shape[0], sizes.microBatch);
  const keysByPair: tf.Tensor2D[][] = [];
  const queriesByPair: tf.Tensor2D[][] = [];
  let sum: Omit<StepGradients, 'keys' | 'queries'> | undefined;
  for (const [start, size] of parts) {
    const part = <T extends tf.Tensor>(t: T): T => (parts.length === 1 ? t : (tf.slice(t, start, size) as T));
    const weight = size / sizes.batchSize;
    const previous = sum;
    const next = tf.tidy(() => {
      const r = step.lossAndGradients([part(v1), part(v2)], indices && part(indices), ctx, encodedKeys?.map(part));
      const scale = <T extends tf.Tensor>(t: T): T => (weight === 1 ? t : (tf.mul(t, weight) as T));
      const add = <T extends tf.Tensor>(acc: T | undefined, t: T): T => (acc ? (tf.add(acc, scale(t)) as T) : scale(t));
      const grads: tf.NamedTensorMap = {};
      for (const [name, grad] of Object.entries(r.grads)) grads[name] = add(previous?.grads[name], grad);
      return { grads, loss: add(previous?.loss, r.loss), accuracy: add(previous?.accuracy, r.accuracy), keys: r.keys, queries: r.queries };
    });
    if (previous) tf.dispose([...Object.values(previous.grads), previous.loss, previous.accuracy]);
    next.keys.forEach((k, p) => (keysByPair[p] ??= []).push(k));
    next.queries.forEach((q, p) => (queriesByPair[p] ??= []).push(q));
    sum = { grads: next.grads, loss: next.loss, accuracy: next.accuracy };
  }
  const whole = (rows: tf.Tensor2D[]) => {
    if (rows.length === 1) return rows[0];
    const all = concatRows(rows);
    tf.dispose(rows);
    return all;
  };
  return { ...sum!, keys: keysByPair.map(whole), queries: queriesByPair.map(whole) };
}
