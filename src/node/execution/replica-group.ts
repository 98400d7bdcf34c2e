// The worker threads of a data-parallel fit (worker-executor.ts runs the steps on them): starting them from the
// run's state, asking each for its part of a step, and closing them. Each thread holds a replica of the run
// (replica-worker.ts) with its own backend: the wasm backend runs one thread in Node (tfjs turns its threads off
// there), so a second core is only reachable with a second backend, in a worker thread.
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { captureState } from '../../checkpoint/checkpoint-state.js';
import { wasmTrainingKernelsConfig } from '../../kernels/wasm-kernel-options.js';
import type { Checkpointable } from '../../training/training-state.js';
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
      // Any exit while an answer is due ends the wait (a worker that cannot start must not hang the run).
      if (code !== 0 || this.waiting) this.fail(new Error(`data-parallel worker ${rank} exited with code ${code}${this.waiting ? ' before answering' : ''}`));
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
   * dictionary set up). `pluginModules`: module specifiers exporting the run's plugins, which the workers import;
   * `microBatch`: the largest forward/backward pass a replica makes.
   */
  static async start(run: Checkpointable, workers: number, pluginModules: readonly string[], microBatch: number): Promise<ReplicaGroup> {
    const captured = await captureState(run);
    const tensors: Record<string, HostTensor> = {};
    for (const { name, tensor } of captured.tensors) tensors[name] = toHost(tensor);
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
        wasmKernels: { ...wasmTrainingKernelsConfig() },
        microBatch,
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
