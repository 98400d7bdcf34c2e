import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createMoco, type Moco } from './moco.js';
import type { MocoPlugin } from './registry/moco-plugin.js';
import type { CheckpointFs } from './checkpoint/checkpoint-fs.js';
import { readCheckpoint } from './checkpoint/checkpoint-io.js';

export interface ResumeMocoOptions {
  /** The plugins the run was created with (e.g. builtinPlugins). */
  readonly plugins: readonly MocoPlugin[];
  /**
   * A backbone of the same architecture (its weights are replaced by the checkpoint's). Omitted: rebuilt from
   * the topology stored in the checkpoint; any custom layer it uses must be registered with tf.serialization.
   */
  readonly backbone?: tfl.LayersModel;
  readonly fs?: Partial<CheckpointFs>;
}

/**
 * A run restored from a checkpoint folder: created with the checkpoint's config, then loaded. Call `fit` with
 * the same data set and fit options (they are in `moco.plan`) to continue to the planned end.
 */
export async function resumeMoco(dir: string, options: ResumeMocoOptions): Promise<Moco> {
  const loaded = await readCheckpoint(dir, { fs: options.fs });
  let moco: Moco | undefined;
  try {
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
