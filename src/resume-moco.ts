import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createMoco, type Moco } from './moco.js';
import type { MocoPlugin } from './registry/moco-plugin.js';
import type { CheckpointFs } from './checkpoint/checkpoint-fs.js';
import { readCheckpoint } from './checkpoint/checkpoint-io.js';
import { fingerprintDifferences, type FingerprintExpectation } from './checkpoint/checkpoint-fingerprint.js';
import { CheckpointError } from './checkpoint/checkpoint-format.js';

export interface ResumeMocoOptions {
  /** The plugins the run was created with (e.g. builtinPlugins). */
  readonly plugins: readonly MocoPlugin[];
  /**
   * A backbone of the same architecture (its weights are replaced by the checkpoint's). Omitted: rebuilt from
   * the topology stored in the checkpoint; any custom layer it uses must be registered with tf.serialization.
   */
  readonly backbone?: tfl.LayersModel;
  readonly fs?: Partial<CheckpointFs>;
  /**
   * What this run must match (checkpoint-fingerprint.ts): config, backbone topology, data identity and size, batch
   * size. A checkpoint whose fingerprint differs is refused with a CheckpointError listing every differing
   * field; one written before fingerprints existed is loaded unchecked, after a call of `warn`.
   */
  readonly expect?: FingerprintExpectation;
  /** Where the warning about a checkpoint without fingerprint goes (default console.warn). */
  readonly warn?: (message: string) => void;
}

/**
 * A run restored from a checkpoint folder: created with the checkpoint's config, then loaded. Call `fit` with
 * the same data set and fit options (they are in `moco.plan`) to continue to the planned end.
 */
export async function resumeMoco(dir: string, options: ResumeMocoOptions): Promise<Moco> {
  const loaded = await readCheckpoint(dir, { fs: options.fs });
  let moco: Moco | undefined;
  try {
    if (options.expect) {
      const saved = loaded.manifest.fingerprint;
      if (!saved) {
        (options.warn ?? console.warn)(`${dir}: the checkpoint has no fingerprint (written by an older tfjs-moco): its config, model and data cannot be checked against this run`);
      } else {
        const diffs = fingerprintDifferences(saved, options.expect);
        if (diffs.length) {
          throw new CheckpointError(dir, `written by a different run, refusing to continue it: ${diffs.join('; ')} (resume it with the settings it was written with, or start a new run)`);
        }
      }
    }
    const backbone =
      options.backbone ?? (await tfl.models.modelFromJSON({ modelTopology: loaded.manifest.backbone.topology as tf.io.ModelJSON['modelTopology'] }));
    moco = createMoco({ backbone, plugins: options.plugins, config: loaded.manifest.config });
    await moco.loadCheckpoint(loaded);
    return moco;
  } catch (err) {
    tf.dispose(Object.values(loaded.tensors).filter((t) => !t.isDisposed));
    moco?.dispose();
    throw err;
  }
}
