import test from 'ava';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useCpu } from '../helpers/tf.js';
import { CheckpointError, createMoco, readCheckpoint, readCheckpointManifest, resumableImageDataset, resumeMoco, type CheckpointFs } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { fixedBackbone, tempDir, tinyImageSet } from './helpers.js';
import * as tf from '@tensorflow/tfjs-core';

await useCpu();
const config = { seed: 5, dictionary: { size: 8 }, normalization: { groups: 2 } };
const set = tinyImageSet(8);

/** A file system whose writeFile writes half the bytes of matching files, then "crashes". */
function crashingWrites(match: (path: string) => boolean): Partial<CheckpointFs> {
  return {
    async writeFile(path, data) {
      if (!match(path)) return writeFile(path, data);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      await writeFile(path, bytes.subarray(0, bytes.length >> 1));
      throw new Error('simulated crash mid-write');
    },
  };
}

test.serial('a save interrupted mid-write, or a process killed mid-save, leaves the previous checkpoint loadable', async (t) => {
  const dir = await tempDir('atomic');
  const backbone = fixedBackbone('at');
  const moco = createMoco({ backbone, plugins: builtinPlugins, config });
  try {
    await moco.fit(resumableImageDataset(set), { epochs: 1, batchSize: 4 });
    await moco.saveCheckpoint(dir.path);
    const good = await readCheckpointManifest(dir.path);
    t.like(good.position, { epoch: 1, stepInEpoch: 0, step: 2 });
    await moco.fit(resumableImageDataset(set), { epochs: 2, batchSize: 4 });

    // 1. Crash while writing the tensor data file, then 2. while writing the new manifest.
    for (const target of ['data-', 'manifest.json.tmp-']) {
      await t.throwsAsync(moco.saveCheckpoint(dir.path, { fs: crashingWrites((p) => p.includes(target)) }), { message: 'simulated crash mid-write' });
      const after = await readCheckpoint(dir.path);
      t.deepEqual(after.manifest, good, `crash in ${target}: the previous checkpoint is intact`);
      tf.dispose(Object.values(after.tensors));
    }

    // 3. A killed process cleans nothing up: plant its leftovers (a half data file, a half manifest).
    await writeFile(join(dir.path, 'data-killed0.bin'), new Uint8Array(100));
    await writeFile(join(dir.path, 'manifest.json.tmp-killed0'), '{"format": "tfjs-moco-check');
    const resumed = await resumeMoco(dir.path, { plugins: builtinPlugins, backbone: fixedBackbone('at') });
    t.like(resumed.position, { epoch: 1, step: 2 });
    const resumedBackbone = resumed.backbone;
    resumed.dispose();
    resumedBackbone.dispose();

    // The next good save replaces the checkpoint and removes every leftover.
    await moco.saveCheckpoint(dir.path);
    const files = (await readdir(dir.path)).sort();
    t.is(files.length, 2, files.join(', '));
    t.like((await readCheckpointManifest(dir.path)).position, { epoch: 2, step: 4 });
  } finally {
    moco.dispose();
    backbone.dispose();
    await dir.cleanup();
  }
});

test.serial('damaged, missing or foreign checkpoints are refused with the path and the reason', async (t) => {
  const dir = await tempDir('damaged');
  const backbone = fixedBackbone('dm');
  const moco = createMoco({ backbone, plugins: builtinPlugins, config });
  try {
    await t.throwsAsync(readCheckpoint(join(dir.path, 'nothing')), { instanceOf: CheckpointError, message: /nothing: no checkpoint here \(manifest\.json not found\)/ });
    await moco.fit(resumableImageDataset(set), { epochs: 1, batchSize: 4 });
    await moco.saveCheckpoint(dir.path);
    const manifest = await readCheckpointManifest(dir.path);

    // Another config: refused, naming the field.
    const other = createMoco({ backbone: fixedBackbone('dm'), plugins: builtinPlugins, config: { ...config, dictionary: { size: 12 } } });
    await t.throwsAsync(other.loadCheckpoint(dir.path), { instanceOf: CheckpointError, message: /different config \(dictionary\.size: 12 in this run vs 8 in the checkpoint\)/ });
    const otherBackbone = other.backbone;
    other.dispose();
    otherBackbone.dispose();

    // One flipped byte in the data file.
    const dataPath = join(dir.path, manifest.tensors.file);
    const bytes = new Uint8Array(await readFile(dataPath));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(dataPath, bytes);
    await t.throwsAsync(readCheckpoint(dir.path), { instanceOf: CheckpointError, message: /SHA-256 does not match/ });
    await writeFile(dataPath, bytes.subarray(0, 10));
    await t.throwsAsync(readCheckpoint(dir.path), { instanceOf: CheckpointError, message: /holds 10 bytes, the manifest says \d+/ });

    await writeFile(join(dir.path, 'manifest.json'), JSON.stringify({ format: 'something-else' }));
    await t.throwsAsync(readCheckpoint(dir.path), { instanceOf: CheckpointError, message: /not a tfjs-moco checkpoint manifest/ });
  } finally {
    moco.dispose();
    backbone.dispose();
    await dir.cleanup();
  }
});
