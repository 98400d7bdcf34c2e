// A replica of a run, in a worker thread (see replica-group.ts): its own backend, its own copy of the
// encoders, optimizer and dictionary, made from the run's state. For every step it computes the loss and
// gradients of its share of the batch; then it applies the step's summed gradients and keys exactly as the
// run does, so it stays an exact copy of the run's trainable state.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend, type BackendPreference } from '../kernels/index.js';
import type { CheckpointManifest } from '../checkpoint/checkpoint-format.js';
import { restoreState } from '../checkpoint/checkpoint-state.js';
import { createMoco, type Moco } from '../moco.js';
import type { MocoPlugin } from '../registry/moco-plugin.js';
import type { StepContext } from '../strategies/step-context.js';
import { shareTensors, type MocoTrainer } from '../training/moco-trainer.js';
import { Random } from '../random/random.js';
import { buffersOf, fromHost, toHost, type FromReplica, type StepPosition, type ToReplica } from './replica-messages.js';

const port = parentPort;
if (!port) throw new Error('replica-worker: run as a worker thread (ReplicaGroup starts it)');

let moco: Moco | undefined;
let trainer: MocoTrainer | undefined;
let random: Random | undefined;
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
  const known: BackendPreference[] = ['wasm', 'cpu', 'tensorflow'];
  const prefer = (known as string[]).includes(msg.backend) ? (msg.backend as BackendPreference) : 'auto';
  await selectBackend({ prefer, needsTraining: true, log: () => undefined });
  if (tf.getBackend() !== msg.backend) {
    throw new Error(`worker ${rank} runs backend '${tf.getBackend()}', the run '${msg.backend}'`);
  }
  const plugins = await loadPlugins(msg.pluginModules);
  const backbone = await tfl.models.modelFromJSON({ modelTopology: msg.manifest.backbone.topology as tf.io.ModelJSON['modelTopology'] });
  moco = createMoco({ backbone, plugins, config: msg.manifest.config });
  trainer = moco.internals;
  const tensors: tf.NamedTensorMap = {};
  for (const [name, host] of Object.entries(msg.tensors)) tensors[name] = fromHost(host);
  await restoreState(trainer, msg.manifest as CheckpointManifest, tensors, `replica ${rank}`);
  // Its own stream for the draws inside a share (Shuffle BN's permutation, a memory bank's sample).
  const seed = Number((msg.manifest.config as { seed?: number }).seed ?? 0);
  random = new Random((seed + 7919 * rank) >>> 0);
}

function context(p: StepPosition): StepContext {
  return { epoch: p.epoch, step: p.step, progress: p.progress, random: random! };
}

function share(msg: Extract<ToReplica, { type: 'share' }>): void {
  const t = trainer!;
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(x: T): T => {
    kept.push(tf.keep(x));
    return x;
  };
  try {
    const r = tf.tidy(() => {
      const v1 = fromHost(msg.v1) as tf.Tensor4D;
      const v2 = fromHost(msg.v2) as tf.Tensor4D;
      const indices = msg.indices && (fromHost(msg.indices) as tf.Tensor1D);
      const keys = msg.keys?.map((k) => fromHost(k) as tf.Tensor2D);
      return t.computeShare(v1, v2, indices, context(msg.position), msg.batchSize, keep, keys);
    });
    try {
      const reply: FromReplica = {
        type: 'share-done',
        rank,
        grads: t.trainableVariables.map((v) => toHost(r.grads[v.name])),
        loss: r.loss.dataSync()[0],
        accuracy: r.accuracy.dataSync()[0],
        pairKeys: r.pairKeys.map(toHost),
        pairQueries: r.pairQueries.map(toHost),
      };
      port!.postMessage(reply, buffersOf([...reply.grads, ...reply.pairKeys, ...reply.pairQueries]));
    } finally {
      tf.dispose(shareTensors(r));
    }
  } finally {
    tf.dispose(kept);
  }
}

function keys(msg: Extract<ToReplica, { type: 'keys' }>): void {
  const t = trainer!;
  const encoded = tf.tidy(() => t.encodeKeyShare(msg.views.map((v) => fromHost(v) as tf.Tensor4D)));
  try {
    const reply: FromReplica = { type: 'keys-done', rank, keys: encoded.map(toHost) };
    port!.postMessage(reply, buffersOf(reply.keys));
  } finally {
    tf.dispose(encoded);
  }
}

function apply(msg: Extract<ToReplica, { type: 'apply' }>): void {
  const t = trainer!;
  t.optimizer.setLearningRate(msg.learningRate);
  tf.tidy(() => {
    const grads: tf.NamedTensorMap = {};
    t.trainableVariables.forEach((v, i) => (grads[v.name] = fromHost(msg.grads[i])));
    const indices = msg.indices && (fromHost(msg.indices) as tf.Tensor1D);
    t.applyUpdate(grads, fromHost(msg.keys) as tf.Tensor2D, fromHost(msg.queries) as tf.Tensor2D, indices, context(msg.position));
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
