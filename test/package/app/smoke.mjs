// Runs inside a fresh app that installed the packed tfjs-moco tarball and its tfjs peers (plain JavaScript,
// no build step, only the package's public entry points). It defines its own loss plugin, trains a few
// MoCo steps on synthetic images, saves the encoder with the library and reloads it with plain
// @tensorflow/tfjs-layers, and prints one line `SMOKE <json>` for the test to check.
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import * as moco from 'tfjs-moco';
import * as mocoNode from 'tfjs-moco/node';
import * as mocoKernels from 'tfjs-moco/kernels';
import { builtinPlugins } from 'tfjs-moco/plugins';

const { createMoco, defineStrategy, strategyPlugin, z, selectBackend, saveModel } = moco;

/** InfoNCE written by the app (He et al. 2020, Eq. 1), counting its calls so the test knows it ran. */
class AppInfoNce {
  id = 'app-infonce';
  calls = 0;
  constructor(temperature) {
    this.temperature = temperature;
  }
  compute(positive, negatives) {
    this.calls++;
    return tf.tidy(() => {
      const logits = tf.div(tf.concat([positive, negatives], 1), this.temperature);
      const loss = tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.slice(logits, [0, 0], [-1, 1]), [1])));
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), 0), 'float32'));
      return { loss, accuracy };
    });
  }
}

let instance;
const appLoss = defineStrategy({
  family: 'loss',
  id: 'app-infonce',
  description: "the app's own InfoNCE",
  options: z.object({ temperature: z.number().positive().default(0.2) }).strict(),
  create: (o) => (instance = new AppInfoNce(o.temperature)),
});
const appPlugin = strategyPlugin('app/infonce', '1.0.0', [appLoss]);

const choice = await selectBackend({ prefer: 'cpu', needsTraining: true });
const backbone = tfl.sequential({
  layers: [
    tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
    tfl.layers.batchNormalization(),
    tfl.layers.activation({ activation: 'relu' }),
    tfl.layers.globalAveragePooling2d({}),
  ],
});
const images = tfd.array(Array.from({ length: 16 }, (_, i) => i)).map((i) => tf.randomUniform([8, 8, 1], 0, 1, 'float32', i + 1));
const trainer = createMoco({
  backbone,
  plugins: [...builtinPlugins, appPlugin],
  config: { loss: { id: 'app-infonce', temperature: 0.2 }, dictionary: { id: 'queue', size: 16 }, head: { dim: 8 }, augmentation: 'crop-flip' },
});
const losses = [];
let lossId;
trainer.events$.subscribe((e) => {
  if (e.type === 'step') losses.push(e.loss);
  if (e.type === 'run-started') lossId = e.config.loss.id;
});
await trainer.fit(images, { epochs: 2, batchSize: 4, stepsPerEpoch: 2 });
trainer.dispose();

const dir = await mkdtemp(join(tmpdir(), 'tfjs-moco-app-model-'));
await saveModel(backbone, dir);
// Plain tfjs-layers from here: the files as tf.io artifacts, no tfjs-moco code involved.
const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
const weights = await readFile(join(dir, modelJson.weightsManifest[0].paths[0]));
const reloaded = await tfl.loadLayersModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology,
  weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
  weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
}));
const probe = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 99);
const a = backbone.predict(probe);
const b = reloaded.predict(probe);
const maxDiff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
const features = Array.from(a.dataSync());

// What the README presents, by entry point.
const expected = {
  'tfjs-moco': ['createMoco', 'selectBackend', 'registerWasmTrainingKernels', 'registerCpuTrainingKernels', 'knnAccuracy', 'linearProbe',
    'evaluateEncoder', 'extractFeatures', 'imageSetToDataset', 'createImageSet', 'smallConvNet', 'resnet18Cifar', 'saveModel', 'loadModel',
    'attachKnnMonitor', 'defineStrategy', 'strategyPlugin', 'z'],
  'tfjs-moco/node': ['loadFashionMnist', 'loadIdxDir', 'loadImageFolder', 'nodeCheckpointFs', 'liveReplicaWorkers'],
  'tfjs-moco/kernels': ['registerWasmTrainingKernels', 'wasmTrainingKernelsConfig', 'WASM_TRAINING_KERNELS_DEFAULTS', 'emaUpdate'],
};
const modules = { 'tfjs-moco': moco, 'tfjs-moco/node': mocoNode, 'tfjs-moco/kernels': mocoKernels };
const missing = Object.entries(expected).flatMap(([entry, names]) => names.filter((n) => modules[entry][n] === undefined).map((n) => `${entry}:${n}`));

console.log(`SMOKE ${JSON.stringify({
  backend: choice.name,
  tfjsVersion: tf.version_core,
  lossId,
  lossCalls: instance?.calls ?? 0,
  losses,
  maxDiff,
  featureShape: a.shape,
  featuresNonZero: features.some((v) => v !== 0),
  missing,
})}`);
process.exit(0);
