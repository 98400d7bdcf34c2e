// A replica of a run, in a worker thread (started by replica-group.ts): its own backend, its own copy of the
// encoders, optimizer and dictionary, made from the run's state. For every step it computes the loss and
// gradients of its share of the batch; then it applies the step's summed gradients and keys exactly as the
// run does, so it stays an exact copy of the run's trainable state.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { CheckpointManifest } from '../../checkpoint/checkpoint-format.js';
import { lossAndGradientsInParts } from '../../execution/micro-batches.js';
import { selectBackend, type BackendPreference } from '../../kernels/index.js';
import { createMoco, type Moco } from '../../moco.js';
import { Random } from '../../random/random.js';
import type { MocoPlugin } from '../../registry/moco-plugin.js';
import type { MocoStep } from '../../step/moco-step.js';
import type { StepContext } from '../../strategies/step-context.js';
import { buffersOf, fromHost, toHost, type FromReplica, type StepPosition, type ToReplica } from './replica-messages.js';

const port = parentPort;
if (!port) throw new Error('replica-worker: run as a worker thread (ReplicaGroup starts it)');

// tfjs's cpu backend prints its "install tfjs-node" banner on first use in every thread; the run's own thread
// has printed it already (once is enough), so a worker drops that one message and nothing else.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...args);
};

let moco: Moco | undefined;
let step: MocoStep | undefined;
let random: Random | undefined;
let microBatch = 0;
let rank = -1;

/** The plugins a module exports: `plugins`, `builtinPlugins` or its default export, an array. */
async function loadPlugins(modules: string[]): Promise<MocoPlugin[]> {
  const plugins: MocoPlugin[] = [];
  for (const spec of modules) {
    const m = (await import(spec)) as Record<string, unknown>;
    const list = m.plugins ?? m.builtinPlugins ?? m.default;
    if (!Array.isArray(list)) {
      throw new Error(`workerPlugins: module '${spec}' exports no array of plugins (export it as 'plugins', 'builtinPlugins' or default)`);
    }
    plugins.push(...(list as MocoPlugin[]));
  }
  return plugins;
}

async function init(msg: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  rank = msg.rank;
  microBatch = msg.microBatch;
  const known: BackendPreference[] = ['wasm', 'cpu', 'tensorflow'];
  const prefer = (known as string[]).includes(msg.backend) ? (msg.backend as BackendPreference) : 'auto';
  await selectBackend({ prefer, needsTraining: true, wasmKernels: msg.wasmKernels, log: () => undefined });
  if (tf.getBackend() !== msg.backend) {
    throw new Error(`worker ${rank} runs backend '${tf.getBackend()}', the run '${msg.backend}'`);
  }
  const plugins = await loadPlugins(msg.pluginModules);
  const backbone = await tfl.models.modelFromJSON({ modelTopology: msg.manifest.backbone.topology as tf.io.ModelJSON['modelTopology'] });
  moco = createMoco({ backbone, plugins, config: msg.manifest.config });
  const tensors: tf.NamedTensorMap = {};
  for (const [name, host] of Object.entries(msg.tensors)) tensors[name] = fromHost(host);
  await moco.loadCheckpoint({ path: `replica ${rank}`, manifest: msg.manifest as CheckpointManifest, tensors });
  step = moco.trainingStep;
  // Its own stream for the draws inside a share (Shuffle BN's permutation, a memory bank's sample).
  const seed = Number((msg.manifest.config as { seed?: number }).seed ?? 0);
  random = new Random((seed + 7919 * rank) >>> 0);
}

function context(p: StepPosition): StepContext {
  return { epoch: p.epoch, step: p.step, progress: p.progress, random: random! };
}

function share(msg: Extract<ToReplica, { type: 'share' }>): void {
  const s = step!;
  const r = tf.tidy(() => {
    const views: [tf.Tensor4D, tf.Tensor4D] = [fromHost(msg.v1) as tf.Tensor4D, fromHost(msg.v2) as tf.Tensor4D];
    const indices = msg.indices && (fromHost(msg.indices) as tf.Tensor1D);
    const keys = msg.keys?.map((k) => fromHost(k) as tf.Tensor2D);
    return lossAndGradientsInParts(s, views, indices, context(msg.position), { batchSize: msg.batchSize, microBatch }, keys);
  });
  try {
    const reply: FromReplica = {
      type: 'share-done',
      rank,
      grads: s.networks.trainable.map((v) => toHost(r.grads[v.name])),
      loss: r.loss.dataSync()[0],
      accuracy: r.accuracy.dataSync()[0],
      pairKeys: r.keys.map(toHost),
      pairQueries: r.queries.map(toHost),
    };
    port!.postMessage(reply, buffersOf([...reply.grads, ...reply.pairKeys, ...reply.pairQueries]));
  } finally {
    tf.dispose([...Object.values(r.grads), r.loss, r.accuracy, ...r.keys, ...r.queries]);
  }
}

function keys(msg: Extract<ToReplica, { type: 'keys' }>): void {
  const encoded = tf.tidy(() => step!.encodeKeys(msg.views.map((v) => fromHost(v) as tf.Tensor4D)));
  try {
    const reply: FromReplica = { type: 'keys-done', rank, keys: encoded.map(toHost) };
    port!.postMessage(reply, buffersOf(reply.keys));
  } finally {
    tf.dispose(encoded);
  }
}

function apply(msg: Extract<ToReplica, { type: 'apply' }>): void {
  const s = step!;
  tf.tidy(() => {
    const grads: tf.NamedTensorMap = {};
    s.networks.trainable.forEach((v, i) => (grads[v.name] = fromHost(msg.grads[i])));
    const indices = msg.indices && (fromHost(msg.indices) as tf.Tensor1D);
    const whole = { grads, keys: msg.keys.map((k) => fromHost(k) as tf.Tensor2D), queries: msg.queries.map((q) => fromHost(q) as tf.Tensor2D) };
    s.update(whole, indices, context(msg.position), msg.learningRate);
  });
}

async function handle(msg: ToReplica): Promise<void> {
  switch (msg.type) {
    case 'init':
      await init(msg);
      port!.postMessage({ type: 'ready', rank } satisfies FromReplica);
      return;
    case 'keys':
      return keys(msg);
    case 'share':
      return share(msg);
    case 'apply':
      return apply(msg);
    case 'close':
      moco?.dispose();
      moco = undefined;
      port!.close();
      return;
  }
}

// Messages are handled one at a time, in order (init is asynchronous).
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToReplica) => {
  queue = queue
    .then(() => handle(msg))
    .catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ type: 'error', rank, message: e.message, stack: e.stack } satisfies FromReplica);
    });
});
