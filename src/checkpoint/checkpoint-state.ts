// Between a live run and a checkpoint: which tensors and numbers make up "everything needed to continue as if
// never stopped", and how to put them back. Pure tfjs; the file side is in checkpoint-io.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { StrategyFamily } from '../registry/strategy-family.js';
import type { StrategyState } from '../strategies/step-context.js';
import type { Checkpointable, NamedWeight, TrainingState } from '../training/training-state.js';
import { fingerprintOf, type CheckpointFingerprint } from './checkpoint-fingerprint.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, type CheckpointManifest } from './checkpoint-format.js';

/** The manifest without its `tensors` file fields, plus the tensors to store. */
export interface CapturedState {
  manifest: Omit<CheckpointManifest, 'tensors'>;
  /** The run's own tensors (read them, do not keep them). */
  tensors: { name: string; tensor: tf.Tensor }[];
}

/** The run's state (a snapshot; the encoders are built first if no fit has run yet) in checkpoint form. */
export async function captureState(run: Checkpointable, metadata: Record<string, unknown> = {}, data?: CheckpointFingerprint['data']): Promise<CapturedState> {
  const state = await run.snapshot();
  const tensors: { name: string; tensor: tf.Tensor }[] = [];
  state.encoders.query.forEach((w, i) => tensors.push({ name: `query/${i}`, tensor: w.tensor }));
  state.encoders.key?.forEach((w, i) => tensors.push({ name: `key/${i}`, tensor: w.tensor }));
  state.optimizer.accumulators.forEach((a, i) => tensors.push({ name: `optimizer/${i}`, tensor: a }));
  const strategies: CheckpointManifest['strategies'] = {};
  for (const [family, saved] of Object.entries(state.strategies)) {
    const names = Object.keys(saved.state.tensors);
    for (const name of names) tensors.push({ name: `strategy/${family}/${name}`, tensor: saved.state.tensors[name] });
    strategies[family] = { id: saved.id, values: { ...saved.state.values }, tensors: names };
  }
  const { position, optimizer } = state;
  const manifest: CapturedState['manifest'] = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    config: plain(run.config) as Record<string, unknown>,
    plan: state.plan ? (plain(state.plan) as CheckpointManifest['plan']) : null,
    position: { epoch: position.epoch, stepInEpoch: position.stepInEpoch, step: position.step },
    random: { state: state.randomState },
    dictionarySetup: state.dictionarySetup ? (plain(state.dictionarySetup) as CheckpointManifest['dictionarySetup']) : null,
    backbone: { name: run.backbone.name, topology: plain(run.backbone.toJSON(null, false)) },
    encoders: { query: state.encoders.query.map((w) => w.name), key: state.encoders.key ? state.encoders.key.map((w) => w.name) : null },
    optimizer: { className: optimizer.className, iterations: optimizer.iterations, accumulators: optimizer.accumulators.length },
    strategies,
    metadata: plain(metadata) as Record<string, unknown>,
    fingerprint: fingerprintOf({
      config: run.config,
      backbone: run.backbone,
      data: { ...(state.plan?.datasetSize !== undefined ? { size: state.plan.datasetSize } : {}), ...data },
      batchSize: state.plan?.batchSize,
    }),
  };
  return { manifest, tensors };
}

/**
 * Put a checkpoint's state into a run: encoders, optimizer, strategies, position and random generator. The
 * run's config must be the checkpoint's (resumeMoco creates it so). `tensors` are the decoded tensors by
 * name; they are disposed here.
 */
export async function restoreState(run: Checkpointable, manifest: CheckpointManifest, tensors: tf.NamedTensorMap, where: string): Promise<void> {
  try {
    const diff = firstDifference(plain(run.config), manifest.config, '');
    if (diff !== undefined) {
      throw new CheckpointError(where, `written by a run with a different config (${diff}); create the run from the checkpoint's config (resumeMoco does)`);
    }
    const take = (name: string): tf.Tensor => {
      const t = tensors[name];
      if (!t) throw new CheckpointError(where, `tensor '${name}' is missing from the data file`);
      return t;
    };
    const weights = (role: 'query' | 'key', names: string[]): NamedWeight[] => names.map((name, i) => ({ name, tensor: take(`${role}/${i}`) }));
    const strategies: TrainingState['strategies'] = {};
    for (const [family, saved] of Object.entries(manifest.strategies)) {
      const state: StrategyState = { tensors: {}, values: { ...saved.values } };
      for (const name of saved.tensors) state.tensors[name] = take(`strategy/${family}/${name}`);
      strategies[family as StrategyFamily] = { id: saved.id, state };
    }
    const state: TrainingState = {
      plan: manifest.plan ?? undefined,
      position: manifest.position,
      randomState: manifest.random.state,
      dictionarySetup: manifest.dictionarySetup ?? undefined,
      encoders: { query: weights('query', manifest.encoders.query), key: manifest.encoders.key ? weights('key', manifest.encoders.key) : undefined },
      optimizer: {
        className: manifest.optimizer.className,
        iterations: manifest.optimizer.iterations,
        accumulators: Array.from({ length: manifest.optimizer.accumulators }, (_, i) => take(`optimizer/${i}`)),
      },
      strategies,
    };
    try {
      await run.restore(state);
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw new CheckpointError(where, err instanceof Error ? err.message : String(err), { cause: err });
    }
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
