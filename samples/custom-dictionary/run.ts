// Runnable: npx tsx samples/custom-dictionary/run.ts
// Pretrains a tiny conv net on 12 random 8×8 images with the third-party 'own-image-queue' dictionary,
// chosen by config, and prints the run's events. The queue (16 keys) is larger than the data set, the
// case where a plain queue would hold keys of a query's own image.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import { pathToFileURL } from 'node:url';
import { createMoco, type MocoEvent } from '../../src/index.js'; // 'tfjs-moco' outside this repository
import { builtinPlugins } from '../../plugins/index.js'; // 'tfjs-moco/plugins'
import { OwnImageQueue, ownImageQueuePlugin } from './index.js';

function tinyBackbone(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
    ],
  });
}

/** n random images with their data-set index: the {xs, index} elements an index-aware dictionary needs. */
function randomImages(n: number): tfd.Dataset<{ xs: tf.Tensor3D; index: tf.Scalar }> {
  return tfd.array(Array.from({ length: n }, (_, i) => i)).map((i) => ({
    xs: tf.randomUniform([8, 8, 1], 0, 1, 'float32', (i as unknown as number) + 1) as tf.Tensor3D,
    index: tf.scalar(i as unknown as number, 'int32'),
  }));
}

export function describe(e: MocoEvent): string {
  switch (e.type) {
    case 'step':
      return `step ${e.step}: loss ${e.loss.toFixed(4)}, pretext acc ${e.pretextAccuracy.toFixed(2)}, queue ${Math.round(e.dictionaryFill * 100)}% real`;
    case 'epoch-ended':
      return `epoch ${e.epoch}: mean loss ${e.meanLoss.toFixed(4)}`;
    case 'run-started':
      return `run started: dictionary ${JSON.stringify(e.config.dictionary)}, ${e.totalSteps} steps`;
    case 'warning':
      return `warning: ${e.message}`;
    default:
      return e.type;
  }
}

export async function run(options: { epochs?: number; stepsPerEpoch?: number; log?: (line: string) => void } = {}): Promise<OwnImageQueue> {
  const log = options.log ?? console.log;
  await tf.setBackend('cpu');
  const backbone = tinyBackbone();
  const moco = createMoco({
    backbone,
    plugins: [...builtinPlugins, ownImageQueuePlugin],
    config: {
      dictionary: { id: 'own-image-queue', size: 16 },
      normalization: { id: 'shuffle-bn', groups: 2 },
      augmentation: 'crop-flip',
      head: { dim: 16 },
      loss: { temperature: 0.2 },
    },
  });
  moco.events$.subscribe((e) => log(describe(e)));
  const queue = moco.strategies.dictionary as OwnImageQueue;
  await moco.fit(randomImages(12), { epochs: options.epochs ?? 3, batchSize: 4, stepsPerEpoch: options.stepsPerEpoch });
  log(`images of the stored keys: ${Array.from(queue.storedOwners.dataSync()).join(' ')}`);
  moco.dispose();
  backbone.dispose(); // in a real run: the trained encoder, kept or saved
  return queue;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
