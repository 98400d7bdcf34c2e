// What must match for a checkpoint to be continued by a run: the resolved MoCo config (strategies and their
// options included), the backbone's topology, the data's identity and size, and the batch size. Stored in the
// manifest; `resumeMoco(dir, { expect })` (and the CLI's `resume`) compares it with what the resuming run has and
// refuses a mismatch with every differing field, e.g. `dictionary.size: checkpoint 64, this run 4096`.
import type * as tfl from '@tensorflow/tfjs-layers';

export interface CheckpointFingerprint {
  /** The run's resolved config (preset merged, defaults filled in). */
  readonly config: Record<string, unknown>;
  /** The backbone, layer by layer: `name:ClassName[shape of each weight]`. */
  readonly model: string[];
  /** The training data: what it is (e.g. the CLI's `--data` spec) and how many images. */
  readonly data?: { readonly identity?: string; readonly size?: number };
  /** Images per step of the fit in progress. */
  readonly batchSize?: number;
}

/** What a resuming run expects; a field left out is not compared. */
export interface FingerprintExpectation {
  readonly config?: Readonly<Record<string, unknown>>;
  /** A backbone of the resuming run (its topology is compared, not its weights). */
  readonly backbone?: tfl.LayersModel;
  readonly data?: { readonly identity?: string; readonly size?: number };
  readonly batchSize?: number;
}

/** The backbone's topology as one line per layer: name, class and weight shapes (weights' values do not count). */
export function modelTopology(model: tfl.LayersModel): string[] {
  return model.layers.map((l) => `${l.name}:${l.getClassName()}[${l.weights.map((w) => `[${w.shape.join(',')}]`).join('')}]`);
}

export function fingerprintOf(input: { config: Readonly<Record<string, unknown>>; backbone: tfl.LayersModel; data?: CheckpointFingerprint['data']; batchSize?: number }): CheckpointFingerprint {
  return {
    config: JSON.parse(JSON.stringify(input.config)) as Record<string, unknown>,
    model: modelTopology(input.backbone),
    ...(input.data ? { data: { ...input.data } } : {}),
    ...(input.batchSize !== undefined ? { batchSize: input.batchSize } : {}),
  };
}

const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/** Every field where a checkpoint's fingerprint and a run's expectation differ, as `path: checkpoint X, this run Y`. */
export function fingerprintDifferences(saved: CheckpointFingerprint, expected: FingerprintExpectation): string[] {
  const out: string[] = [];
  if (expected.config) configDifferences(saved.config, JSON.parse(JSON.stringify(expected.config)), '', out);
  if (expected.backbone) {
    const mine = modelTopology(expected.backbone);
    if (mine.length !== saved.model.length) out.push(`model: checkpoint ${saved.model.length} layers, this run ${mine.length}`);
    for (let i = 0; i < Math.min(mine.length, saved.model.length); i++) {
      if (mine[i] !== saved.model[i]) out.push(`model layer ${i}: checkpoint ${saved.model[i]}, this run ${mine[i]}`);
    }
  }
  for (const key of ['identity', 'size'] as const) {
    const want = expected.data?.[key];
    if (want !== undefined && saved.data?.[key] !== undefined && want !== saved.data[key]) out.push(`data.${key}: checkpoint ${show(saved.data[key])}, this run ${show(want)}`);
  }
  if (expected.batchSize !== undefined && saved.batchSize !== undefined && expected.batchSize !== saved.batchSize) {
    out.push(`batchSize: checkpoint ${saved.batchSize}, this run ${expected.batchSize}`);
  }
  return out;
}

function configDifferences(a: unknown, b: unknown, path: string, out: string[]): void {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) configDifferences(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path || 'config'}: checkpoint ${show(a)}, this run ${show(b)}`);
}
