// The on-disk form of a checkpoint: a folder holding `manifest.json` (everything but tensors, human-readable)
// and one binary file of tensor data (float32/int32, little-endian, the layout of tf.io.encodeWeights, listed
// in the manifest's `tensors.specs` in order). The manifest names the data file, its size and SHA-256, so a
// damaged or half-written file is detected instead of being loaded.
import { z } from 'zod';

export const CHECKPOINT_FORMAT = 'tfjs-moco-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

/** A problem with a checkpoint folder (missing, damaged, or not matching the run); `path` is the file or folder. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem}`, options);
  }
}

const stateValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.number())]);
const weightSpec = z.looseObject({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
});

export const checkpointManifestSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  createdAt: z.string(),
  /** The run's resolved config (`moco.config`): a resumed run is created from it. */
  config: z.record(z.string(), z.unknown()),
  /** The plan of the fit in progress (epochs, batch size, steps per epoch...), when a fit ran. */
  plan: z
    .object({
      epochs: z.number().int(),
      batchSize: z.number().int(),
      stepsPerEpoch: z.number().int().optional(),
      datasetSize: z.number().int().optional(),
      totalSteps: z.number().int().optional(),
    })
    .nullable(),
  /** Where the run is: `stepInEpoch` batches of `epoch` are done (a resumed run skips them). */
  position: z.object({ epoch: z.number().int().min(0), stepInEpoch: z.number().int().min(0), step: z.number().int().min(0) }),
  /** The state of the run's seeded generator (augmentations, Shuffle BN permutations...). */
  random: z.object({ state: z.number().int().min(0) }),
  /** What the dictionary was set up with, when it was. */
  dictionarySetup: z
    .object({ dim: z.number().int(), batchSize: z.number().int(), datasetSize: z.number().int().optional(), totalSteps: z.number().int().optional() })
    .nullable(),
  /** The user's backbone: name and serialized topology (resumeMoco rebuilds it when no backbone is given). */
  backbone: z.object({ name: z.string(), topology: z.unknown() }),
  tensors: z.object({
    file: z.string().regex(/^[A-Za-z0-9._-]+$/),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    specs: z.array(weightSpec),
  }),
  /** Weight names of the encoders, in the order stored (query/0..., key/0...). */
  encoders: z.object({ query: z.array(z.string()), key: z.array(z.string()).nullable() }),
  optimizer: z.object({ className: z.string(), iterations: z.number().int().min(0), accumulators: z.number().int().min(0) }),
  /** Per strategy family: its id, its plain values, and the names of its tensors (stored as strategy/<family>/<name>). */
  strategies: z.record(z.string(), z.object({ id: z.string(), values: z.record(z.string(), stateValue), tensors: z.array(z.string()) })),
  /** Whatever the caller attached (the CLI stores its run settings here). */
  metadata: z.record(z.string(), z.unknown()),
  /**
   * What a run must match to continue this checkpoint (checkpoint-fingerprint.ts). Absent in checkpoints written
   * before it existed: those are resumed with a warning, unchecked.
   */
  fingerprint: z
    .object({
      config: z.record(z.string(), z.unknown()),
      model: z.array(z.string()),
      data: z.object({ identity: z.string().optional(), size: z.number().int().optional() }).optional(),
      batchSize: z.number().int().optional(),
    })
    .optional(),
});

export type CheckpointManifest = z.infer<typeof checkpointManifestSchema>;
