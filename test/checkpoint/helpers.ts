// Shared by the checkpoint tests: a tiny labelled image set, fixed starting weights, and state snapshots.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImageSet, type ImageSet } from '../../src/data/index.js';
import type { Moco } from '../../src/index.js';
import { tinyBackbone } from '../helpers/tiny.js';

/** n random 8×8 grey images with labels 0..3. */
export function tinyImageSet(n: number, seed = 1): ImageSet {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  const images = new Uint8Array(n * 64);
  for (let i = 0; i < images.length; i++) images[i] = rand();
  return createImageSet({ name: 'tiny', images, count: n, height: 8, width: 8, channels: 1, labels: Int32Array.from({ length: n }, (_, i) => i % 4) });
}

/** A tiny backbone with the same starting weights every call (for a given name), whatever the initialisers draw. */
export function fixedBackbone(name: string): tfl.LayersModel {
  const model = tinyBackbone(8, 1, 4, name);
  const values = model.weights.map((w, i) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    // Variances must stay positive: BN moving variance gets 1 + something small.
    const isVariance = w.originalName.includes('moving_variance');
    return tf.tensor(Float32Array.from({ length: n }, (_, k) => (isVariance ? 1 : 0) + 0.3 * Math.sin(1 + k + 7 * i)), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/** Every number of the run's state, as plain arrays: encoders, optimizer accumulators, dictionary. */
export async function snapshot(moco: Moco): Promise<Record<string, Float32Array | Int32Array>> {
  const out: Record<string, Float32Array | Int32Array> = {};
  const step = moco.trainingStep!;
  moco.queryEncoder!.weights.forEach((w, i) => (out[`query/${i}`] = w.read().dataSync() as Float32Array));
  moco.keyEncoder?.weights.forEach((w, i) => (out[`key/${i}`] = w.read().dataSync() as Float32Array));
  const opt = await step.networks.optimizer.getWeights();
  opt.forEach((w, i) => (out[`optimizer/${i}`] = w.tensor.dataSync() as Float32Array));
  opt[0].tensor.dispose();
  const state = moco.strategies.dictionary.state!();
  for (const [k, v] of Object.entries(state.tensors)) out[`dictionary/${k}`] = v.dataSync() as Float32Array;
  moco.backbone.weights.forEach((w, i) => (out[`backbone/${i}`] = w.read().dataSync() as Float32Array));
  return out;
}

/** Largest absolute difference over all entries of two snapshots (which must have the same keys and sizes). */
export function maxSnapshotDiff(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>): number {
  const keys = Object.keys(a);
  if (keys.join() !== Object.keys(b).join()) throw new Error(`different entries: ${keys.join()} vs ${Object.keys(b).join()}`);
  let m = 0;
  for (const k of keys) {
    if (a[k].length !== b[k].length) throw new Error(`${k}: ${a[k].length} vs ${b[k].length} values`);
    for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  }
  return m;
}

export async function tempDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tfjs-moco-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
