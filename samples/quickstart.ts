// Pretrain your own tfjs encoder with MoCo on unlabeled images, watching progress as events.
import * as tfl from '@tensorflow/tfjs-layers';
import { createMoco, selectBackend } from '../src/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { imageSetToDataset, stratifiedSubset } from '../src/data/index.js';
import { loadFashionMnist } from '../src/node/data/index.js';

// 0. The fastest backend here (tfjs-node-gpu, tfjs-node, wasm, then cpu), with the reason logged.
const backend = await selectBackend({ needsTraining: true, log: console.log });

// 1. Any backbone: images in, a feature vector out.
const backbone = tfl.sequential({
  layers: [
    tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
    tfl.layers.batchNormalization(),
    tfl.layers.reLU(),
    tfl.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
    tfl.layers.batchNormalization(),
    tfl.layers.reLU(),
    tfl.layers.globalAveragePooling2d({}),
  ],
});

// 2. A config: the paper's defaults, with a dictionary sized for a small data set.
const moco = createMoco({
  backbone,
  plugins: builtinPlugins,
  config: { dictionary: { id: 'queue', size: 1024 }, update: { keyEncoderMomentum: 0.99 }, augmentation: 'crop-flip', loss: { temperature: 0.2 } },
});

// 3. Subscribe to the event stream.
moco.on('step').subscribe((e) => e.step % 5 === 0 && console.log(`step ${e.step} loss ${e.loss.toFixed(3)} acc ${e.pretextAccuracy.toFixed(2)} ${e.imagesPerSecond.toFixed(0)} img/s`));

// 4. Train on 2,000 unlabeled Fashion-MNIST images; get the trained backbone back.
const { train } = await loadFashionMnist();
const trained = await moco.fit(imageSetToDataset(stratifiedSubset(train, 200), { shuffle: true, seed: 1 }), { epochs: 1, batchSize: 64 });
console.log(`backend ${backend.name}; trained ${trained.countParams()} parameters`);
