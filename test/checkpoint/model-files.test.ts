import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { CheckpointError, createMoco, loadModel, resumableImageDataset, saveModel } from '../../src/index.js';
import { smallConvNet } from '../../src/models/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { fixedBackbone, tempDir, tinyImageSet } from './helpers.js';

await useCpu();

test.serial('saveModel writes model.json + weights.bin that loadModel (tf.loadLayersModel) reads back exactly', async (t) => {
  const dir = await tempDir('model');
  const model = smallConvNet({ seed: 4, width: 4 });
  try {
    const info = await saveModel(model, dir.path);
    t.true(info.weightDataBytes! > 0);
    t.deepEqual((await readdir(dir.path)).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(dir.path, 'model.json'), 'utf8'));
    t.is(json.format, 'layers-model');
    t.truthy(json.modelTopology);
    t.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    t.is(json.weightsManifest[0].weights.length, model.weights.length);

    const loaded = await loadModel(dir.path);
    t.deepEqual(loaded.weights.map((w) => w.originalName), model.weights.map((w) => w.originalName));
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 7);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    t.is(maxAbsDiff(a, b), 0);
    tf.dispose([x, a, b]);
    loaded.dispose();
    await t.throwsAsync(loadModel(join(dir.path, 'missing')), { instanceOf: CheckpointError, message: /model\.json: no such file/ });
  } finally {
    model.dispose();
    await dir.cleanup();
  }
});

test.serial('the exported encoder of a Shuffle-BN run holds only the user\'s layers: plain tfjs loads it, no registration needed', async (t) => {
  const dir = await tempDir('export');
  const backbone = fixedBackbone('ex');
  const moco = createMoco({ backbone, plugins: builtinPlugins, config: { dictionary: { size: 8 }, normalization: { id: 'shuffle-bn', groups: 2 } } });
  try {
    await moco.fit(resumableImageDataset(tinyImageSet(8)), { epochs: 1, batchSize: 4 });
    const queryClasses = moco.queryEncoder!.layers.map((l) => l.getClassName());
    t.true(queryClasses.includes('GroupBatchNormalization'), 'training copies use group BN');
    await saveModel(moco.exportEncoder(), dir.path);
    const json = await readFile(join(dir.path, 'model.json'), 'utf8');
    t.false(json.includes('GroupBatchNormalization'));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: JSON.parse(json).modelTopology }));
    t.deepEqual(loaded.layers.map((l) => l.getClassName()), backbone.layers.map((l) => l.getClassName()));
    loaded.dispose();
    const withWeights = await loadModel(dir.path);
    t.is(maxAbsDiff(withWeights.weights[0].read(), backbone.weights[0].read()), 0, 'the trained weights');
    withWeights.dispose();
  } finally {
    moco.dispose();
    backbone.dispose();
    await dir.cleanup();
  }
});
