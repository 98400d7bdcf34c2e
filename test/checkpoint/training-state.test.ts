// A checkpoint goes into a run through restore() of a TrainingState: the state is checked against the run as a
// whole before anything is replaced, so a refused checkpoint leaves the run exactly as it was.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useCpu } from '../helpers/tf.js';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import { CheckpointError, createMoco } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { maxSnapshotDiff, snapshot, tempDir } from './helpers.js';

await useCpu();
const config = { seed: 2, head: { dim: 8 }, dictionary: { size: 16 }, loss: { temperature: 0.2 } };

test.serial('a checkpoint of another backbone is refused with the weight and both shapes, and changes nothing', async (t) => {
  const dir = await tempDir('state');
  try {
    const saved = createMoco({ backbone: tinyBackbone(8, 1, 4, 'st', 3), plugins: builtinPlugins, config });
    await saved.fit(randomImages(8, 8, 1, 4), { epochs: 1, batchSize: 4 });
    await saved.saveCheckpoint(dir.path);
    saved.dispose();

    // Same config, same layer count, wider convolutions: only the shapes differ.
    const other = createMoco({ backbone: tinyBackbone(8, 1, 6, 'st', 3), plugins: builtinPlugins, config });
    await other.fit(randomImages(8, 8, 1, 5), { epochs: 1, batchSize: 4 });
    const before = await snapshot(other);
    const positionBefore = other.position;
    const tensorsBefore = tf.memory().numTensors;
    const err = await t.throwsAsync(other.loadCheckpoint(dir.path), { instanceOf: CheckpointError });
    t.regex(err!.message, /query weight 0 '.+' has shape \[3,3,1,6\], the saved '.+' \[3,3,1,4\]/);
    t.is(maxSnapshotDiff(before, await snapshot(other)), 0, 'encoders, optimizer, queue and backbone untouched');
    t.deepEqual(other.position, positionBefore);
    t.is(tf.memory().numTensors, tensorsBefore, 'the decoded tensors were freed');
    other.dispose();
  } finally {
    await dir.cleanup();
  }
});

test.serial('a checkpoint whose dictionary state is another strategy\'s is refused before the encoders or optimizer change', async (t) => {
  const dir = await tempDir('state-strategy');
  try {
    const saved = createMoco({ backbone: tinyBackbone(8, 1, 4, 'ss', 3), plugins: builtinPlugins, config });
    await saved.fit(randomImages(8, 8, 1, 4), { epochs: 1, batchSize: 4 });
    await saved.saveCheckpoint(dir.path);
    saved.dispose();
    // The manifest claims the dictionary state came from another strategy (the config still matches).
    const manifestPath = join(dir.path, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.strategies.dictionary.id = 'not-the-queue';
    await writeFile(manifestPath, JSON.stringify(manifest));

    // A run of the same backbone and config that trained on other images: restoring would change every number.
    const other = createMoco({ backbone: tinyBackbone(8, 1, 4, 'ss', 3), plugins: builtinPlugins, config });
    await other.fit(randomImages(8, 8, 1, 5), { epochs: 1, batchSize: 4 });
    const before = await snapshot(other);
    const err = await t.throwsAsync(other.loadCheckpoint(dir.path), { instanceOf: CheckpointError });
    t.regex(err!.message, /dictionary strategy is 'queue', the saved state's 'not-the-queue'/);
    t.is(maxSnapshotDiff(before, await snapshot(other)), 0, 'encoders, optimizer, queue and backbone untouched');
    other.dispose();
  } finally {
    await dir.cleanup();
  }
});
