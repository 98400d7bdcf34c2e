// Between a live run and a checkpoint: which tensors and numbers make up "everything needed to continue as if
// never stopped", and how to put them back. Pure tfjs; the file side is in checkpoint-io.ts.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { STRATEGY_FAMILIES, type StrategyFamily } from '../registry/strategy-family.js';
import type { StrategyState } from '../strategies/step-context.js';
import type { MocoTrainer } from '../training/moco-trainer.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, type CheckpointManifest } from './checkpoint-format.js';

/** A strategy that can save and restore its state (every dictionary; an update rule optionally; any other). */
interface Stateful {
  readonly id: string;
  state?(): StrategyState;
  loadState?(state: StrategyState): void;
}

/** The manifest without its `tensors` file fields, plus the tensors to store. */
export interface CapturedState {
  manifest: Omit<CheckpointManifest, 'tensors'>;
  tensors: { name: string; tensor: tf.Tensor }[];
  /** Tensors made for the capture (not owned by the run): dispose after encoding. */
  temporaries: tf.Tensor[];
}

/**
 * Collect the run's state. Builds the encoders first if no fit has run yet, so a checkpoint can be taken
 * at any time. Nothing of the run is copied: the tensors listed are the run's own (read them, do not keep them).
 */
export async function captureState(trainer: MocoTrainer, metadata: Record<string, unknown> = {}): Promise<CapturedState> {
  await trainer.build();
  const tensors: { name: string; tensor: tf.Tensor }[] = [];
  const temporaries: tf.Tensor[] = [];
  const query = trainer.query.weights;
  query.forEach((w, i) => tensors.push({ name: `query/${i}`, tensor: w.read() }));
  const key = trainer.key?.weights;
  key?.forEach((w, i) => tensors.push({ name: `key/${i}`, tensor: w.read() }));

  // [iterations, accumulator 0, 1, ...]; the accumulators exist only after the first step (tfjs makes them lazily).
  const optimizerWeights = await trainer.optimizer.getWeights();
  const [iterationsEntry, ...accumulators] = optimizerWeights;
  temporaries.push(iterationsEntry.tensor);
  const iterations = (await iterationsEntry.tensor.data())[0];
  accumulators.forEach((a, i) => tensors.push({ name: `optimizer/${i}`, tensor: a.tensor }));

  const strategies: CheckpointManifest['strategies'] = {};
  for (const family of STRATEGY_FAMILIES) {
    const s = trainer.strategies[family] as Stateful;
    // The dictionary has no state before setup (the first fit): nothing to save yet.
    if (family === 'dictionary' && !trainer.dictionaryIsReady) continue;
    if (typeof s.state !== 'function') continue;
    const state = s.state();
    const names = Object.keys(state.tensors);
    for (const name of names) tensors.push({ name: `strategy/${family}/${name}`, tensor: state.tensors[name] });
    strategies[family] = { id: s.id, values: { ...state.values }, tensors: names };
  }

  const backbone = trainer.backbone;
  const manifest: CapturedState['manifest'] = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    config: plain(trainer.fullConfig) as Record<string, unknown>,
    plan: trainer.plan ? (plain(trainer.plan) as CheckpointManifest['plan']) : null,
    position: { epoch: trainer.position.epoch, stepInEpoch: trainer.position.stepInEpoch, step: trainer.position.step },
    random: { state: trainer.random.getState() },
    dictionarySetup: trainer.dictionarySetup ? (plain(trainer.dictionarySetup) as CheckpointManifest['dictionarySetup']) : null,
    backbone: { name: backbone.name, topology: plain(backbone.toJSON(null, false)) },
    encoders: { query: query.map((w) => w.originalName), key: key ? key.map((w) => w.originalName) : null },
    optimizer: { className: trainer.optimizer.getClassName(), iterations, accumulators: accumulators.length },
    strategies,
    metadata: plain(metadata) as Record<string, unknown>,
  };
  return { manifest, tensors, temporaries };
}

/**
 * Put a checkpoint's state into a run: encoders, optimizer, strategies, position and random generator. The
 * run's config must be the checkpoint's (resumeMoco creates it so). `tensors` are the decoded tensors by
 * name; they are disposed here.
 */
export async function restoreState(trainer: MocoTrainer, manifest: CheckpointManifest, tensors: tf.NamedTensorMap, where: string): Promise<void> {
  try {
    const diff = firstDifference(plain(trainer.fullConfig), manifest.config, '');
    if (diff !== undefined) {
      throw new CheckpointError(where, `written by a run with a different config (${diff}); create the run from the checkpoint's config (resumeMoco does)`);
    }
    await trainer.build();
    const take = (name: string): tf.Tensor => {
      const t = tensors[name];
      if (!t) throw new CheckpointError(where, `tensor '${name}' is missing from the data file`);
      return t;
    };
    const setModel = (role: 'query' | 'key', model: tfl.LayersModel, names: string[]) => {
      if (names.length !== model.weights.length) {
        throw new CheckpointError(where, `the ${role} encoder has ${model.weights.length} weights, the checkpoint ${names.length}: not the same backbone or head`);
      }
      const values = names.map((_, i) => take(`${role}/${i}`));
      model.weights.forEach((w, i) => {
        if (!tf.util.arraysEqual(w.shape as number[], values[i].shape)) {
          throw new CheckpointError(where, `${role} weight ${i} '${w.originalName}' has shape [${w.shape}], the checkpoint's '${names[i]}' [${values[i].shape}]`);
        }
      });
      model.setWeights(values);
    };
    setModel('query', trainer.query, manifest.encoders.query);
    if (trainer.key) {
      if (!manifest.encoders.key) throw new CheckpointError(where, 'the run has a key encoder, the checkpoint none');
      setModel('key', trainer.key, manifest.encoders.key);
    }

    // Optimizer: replace any accumulators by the saved ones (same order: the trainable weights').
    const current = await trainer.optimizer.getWeights();
    tf.dispose(current.map((w) => w.tensor));
    const trainable = trainer.trainableVariables;
    const n = manifest.optimizer.accumulators;
    if (n !== 0 && n !== trainable.length) {
      throw new CheckpointError(where, `${n} optimizer accumulators for ${trainable.length} trainable weights`);
    }
    const iterations = tf.scalar(manifest.optimizer.iterations, 'int32');
    const accumulators = Array.from({ length: n }, (_, i) => ({ name: `${trainable[i].name}/momentum`, tensor: take(`optimizer/${i}`) }));
    await trainer.optimizer.setWeights([{ name: 'iter', tensor: iterations }, ...accumulators]);
    iterations.dispose();

    // Strategies: the dictionary is set up as it was (that draws from the generator, restored below), then loaded.
    for (const family of STRATEGY_FAMILIES) {
      const saved = manifest.strategies[family];
      if (!saved) continue;
      const s = trainer.strategies[family as StrategyFamily] as Stateful;
      if (s.id !== saved.id) throw new CheckpointError(where, `${family} strategy is '${s.id}', the checkpoint's '${saved.id}'`);
      if (typeof s.loadState !== 'function') throw new CheckpointError(where, `${family} strategy '${s.id}' cannot load state`);
      if (family === 'dictionary' && !trainer.dictionaryIsReady) {
        if (!manifest.dictionarySetup) throw new CheckpointError(where, 'dictionary state without its setup');
        trainer.prepareDictionary(manifest.dictionarySetup, () => undefined);
      }
      const state: StrategyState = { tensors: {}, values: { ...saved.values } };
      for (const name of saved.tensors) state.tensors[name] = take(`strategy/${family}/${name}`);
      s.loadState(state);
    }

    trainer.random.setState(manifest.random.state);
    Object.assign(trainer.position, manifest.position, { randomState: manifest.random.state });
    if (manifest.plan) trainer.plan = { ...manifest.plan };
    trainer.exportInto(trainer.backbone);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** A JSON round trip: plain data, no undefined fields, no shared references. */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** The first dotted path where two plain JSON values differ, e.g. `dictionary.size: 4096 vs 8192`. */
export function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : `${path || 'config'}: ${JSON.stringify(a)} in this run vs ${JSON.stringify(b)} in the checkpoint`;
}
