// Data-parallel training over worker threads: the paper's multi-GPU setting (He et al. 2020, Sec. 3.3 and
// Appendix A: batch 256 over 8 GPUs, BatchNorm per GPU) on the cores of one machine.
//
// Why workers: the wasm backend runs one thread in Node (tfjs turns its threads off there), so a second core
// is only reachable with a second backend, in a worker thread. The run's thread is one worker of the group;
// each other worker holds a replica (replica-worker.ts) made from the run's state (the checkpoint capture).
// Every step the batch is split into one share per worker; each computes its share's loss and gradients,
// this thread sums them in share order and applies the update, and sends the summed gradients and the keys
// to the replicas, which apply the very same update. The trainable state stays identical everywhere, and a
// step equals the one-thread step with `microBatch` = batch/workers (same shares, same sums, same order).
// Shuffle BN (a normalization with `shufflesKeys`) shuffles the key batch across the workers first, as the
// paper does across GPUs (MocoTrainer.keysShuffledAcrossWorkers). What differs from one thread: draws a
// strategy makes inside a share (a memory bank's sample) come from each worker's own generator, and
// BatchNorm's moving statistics are this thread's share's (as PyTorch's DistributedDataParallel keeps rank 0's
// buffers).
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { captureState } from '../checkpoint/checkpoint-state.js';
import type { MocoTrainer } from '../training/moco-trainer.js';
import { toHost, type FromReplica, type HostTensor, type ToReplica } from './replica-messages.js';

type ShareDone = Extract<FromReplica, { type: 'share-done' }>;
type KeysDone = Extract<FromReplica, { type: 'keys-done' }>;

let liveWorkers = 0;

/** Worker threads started by replica groups that have not exited yet (for tests and diagnostics). */
export function liveReplicaWorkers(): number {
  return liveWorkers;
}

// The worker's first module: registers tsx first when the library runs from its TypeScript sources (worker
// threads do not inherit the parent's module loader), then imports the replica. CommonJS, as eval code is.
const BOOT = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) {
    const { register } = await import(workerData.tsx);
    register();
  }
  await import(workerData.entry);
})().catch((err) => parentPort.postMessage({ type: 'error', rank: workerData.rank, message: String((err && err.stack) || err) }));
`;

function workerEntry(): { entry: string; tsx?: string } {
  const here = import.meta.url;
  const fromSources = here.endsWith('.ts');
  return {
    entry: new URL(`./replica-worker.${fromSources ? 'ts' : 'js'}`, here).href,
    tsx: fromSources ? import.meta.resolve('tsx/esm/api') : undefined,
  };
}

/** One worker thread and the reply it is waiting for. */
class Replica {
  private waiting: { resolve: (m: FromReplica) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    readonly rank: number,
    readonly worker: Worker,
  ) {
    worker.on('message', (m: FromReplica) => {
      if (m.type === 'error') return this.fail(new Error(`data-parallel worker ${rank}: ${m.message}`));
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve(m);
    });
    worker.on('error', (err) => this.fail(new Error(`data-parallel worker ${rank} crashed: ${err.message}`)));
    liveWorkers++;
    worker.on('exit', (code) => {
      liveWorkers--;
      if (code !== 0) this.fail(new Error(`data-parallel worker ${rank} exited with code ${code}`));
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }

  send(msg: ToReplica, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(msg, transfer);
  }

  /** Send `msg` and wait for the worker's answer. */
  request(msg: ToReplica, transfer: ArrayBuffer[] = []): Promise<FromReplica> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.postMessage(msg, transfer);
    });
  }
}

export class ReplicaGroup {
  private constructor(private readonly replicas: Replica[]) {}

  /** Workers in the group, this thread included. */
  get size(): number {
    return this.replicas.length + 1;
  }

  /**
   * Start `workers − 1` replica threads with the run's current state (call it at a step boundary, with the
   * dictionary set up). `pluginModules`: module specifiers exporting the run's plugins, which the workers import.
   */
  static async start(trainer: MocoTrainer, workers: number, pluginModules: readonly string[]): Promise<ReplicaGroup> {
    const captured = await captureState(trainer);
    const tensors: Record<string, HostTensor> = {};
    try {
      for (const { name, tensor } of captured.tensors) tensors[name] = toHost(tensor);
    } finally {
      tf.dispose(captured.temporaries);
    }
    const { entry, tsx } = workerEntry();
    const replicas = Array.from({ length: workers - 1 }, (_, i) => {
      const rank = i + 1;
      return new Replica(rank, new Worker(BOOT, { eval: true, workerData: { entry, tsx, rank } }));
    });
    const group = new ReplicaGroup(replicas);
    try {
      const init = (rank: number): ToReplica => ({
        type: 'init',
        rank,
        pluginModules: [...pluginModules],
        backend: tf.getBackend(),
        manifest: captured.manifest,
        tensors,
      });
      await Promise.all(replicas.map((r) => r.request(init(r.rank))));
    } catch (err) {
      await group.close();
      throw err;
    }
    return group;
  }

  /** Each replica computes one share (the i-th message goes to replica i); resolves with their results in order. */
  shares(messages: Extract<ToReplica, { type: 'share' }>[], transfers: ArrayBuffer[][]): Promise<ShareDone[]> {
    return this.askEach(messages, transfers, 'share-done');
  }

  /** Each replica encodes its rows of the shuffled key batch (the i-th message to replica i). */
  keys(messages: Extract<ToReplica, { type: 'keys' }>[], transfers: ArrayBuffer[][]): Promise<KeysDone[]> {
    return this.askEach(messages, transfers, 'keys-done');
  }

  private async askEach<T extends FromReplica['type']>(messages: ToReplica[], transfers: ArrayBuffer[][], expected: T): Promise<Extract<FromReplica, { type: T }>[]> {
    const replies = await Promise.all(messages.map((m, i) => this.replicas[i].request(m, transfers[i])));
    return replies.map((r) => {
      if (r.type !== expected) throw new Error(`data-parallel worker sent '${r.type}' where '${expected}' was due`);
      return r as Extract<FromReplica, { type: T }>;
    });
  }

  /** The step's update, for every replica to apply as this thread did. */
  apply(message: Extract<ToReplica, { type: 'apply' }>): void {
    for (const r of this.replicas) r.send(message);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (r) => {
        try {
          r.send({ type: 'close' });
        } catch {
          // already failed: terminate below
        }
        await r.worker.terminate();
      }),
    );
  }
}
