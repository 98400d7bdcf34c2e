// The messages between a run and its replica workers (data-parallel training, worker-executor.ts), and the
// host form tensors travel in. Plain structured-clone data: typed arrays, numbers, strings, JSON.
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointManifest } from '../../checkpoint/checkpoint-format.js';
import type { WasmTrainingKernelsArgs } from '../../kernels/wasm-kernel-options.js';

/** A tensor on the host: what postMessage can carry. */
export interface HostTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** The step's position, as the strategies see it (each worker has its own random generator). */
export interface StepPosition {
  epoch: number;
  step: number;
  progress: number;
}

export type ToReplica =
  | {
      type: 'init';
      rank: number;
      /** Module specifiers (URLs) whose exports include the run's plugins. */
      pluginModules: string[];
      /** The backend the run trains on; the worker selects the same one. */
      backend: string;
      /** How the main thread's wasm kernels run (registerWasmTrainingKernels options): the worker runs the same. */
      wasmKernels: WasmTrainingKernelsArgs;
      /** The run's microBatch: a share larger than this is computed in micro-batches (0: whole). */
      microBatch: number;
      manifest: Omit<CheckpointManifest, 'tensors'>;
      tensors: Record<string, HostTensor>;
    }
  /** Key views (one per view pair) of this worker's rows of the batch permuted across workers: encode them. */
  | { type: 'keys'; position: StepPosition; views: HostTensor[] }
  | {
      type: 'share';
      position: StepPosition;
      v1: HostTensor;
      v2: HostTensor;
      indices?: HostTensor;
      batchSize: number;
      /** The share's positive keys, when they were encoded across the workers (one per view pair). */
      keys?: HostTensor[];
    }
  | {
      type: 'apply';
      position: StepPosition;
      learningRate: number;
      /** The summed gradients in the order of the trainable variables. */
      grads: HostTensor[];
      /** The whole batch's keys and queries per view pair, rows in batch order. */
      keys: HostTensor[];
      queries: HostTensor[];
      /** The batch's data-set indices. */
      indices?: HostTensor;
    }
  | { type: 'close' };

export type FromReplica =
  | { type: 'ready'; rank: number }
  | {
      type: 'share-done';
      rank: number;
      /** Gradients (scaled by the share's part of the batch) in the order of the trainable variables. */
      grads: HostTensor[];
      loss: number;
      accuracy: number;
      pairKeys: HostTensor[];
      pairQueries: HostTensor[];
    }
  | { type: 'keys-done'; rank: number; keys: HostTensor[] }
  | { type: 'error'; rank: number; message: string; stack?: string };

/**
 * A tensor's values on the host (one read of the device), in a buffer of their own: the cpu backend's
 * dataSync returns its storage itself, which must not be transferred away.
 */
export function toHost(t: tf.Tensor): HostTensor {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`replica messages carry float32 and int32 tensors, not ${t.dtype}`);
  return { shape: [...t.shape], dtype: t.dtype, data: (t.dataSync() as Float32Array | Int32Array).slice() };
}

/** Rows [start, start + size) of a tensor, on the host (the slice is freed). */
export function toHostRows(t: tf.Tensor, [start, size]: [number, number]): HostTensor {
  const rows = tf.slice(t, start, size);
  try {
    return toHost(rows);
  } finally {
    rows.dispose();
  }
}

export function fromHost(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.dtype);
}

/** The ArrayBuffers of host tensors, to transfer instead of copying. */
export function buffersOf(tensors: (HostTensor | undefined)[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of tensors) if (t) seen.add(t.data.buffer as ArrayBuffer);
  return [...seen];
}
