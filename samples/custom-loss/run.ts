// Runnable: npx tsx samples/custom-loss/run.ts
// Pretrains a tiny conv net on 12 random 8×8 images with the third-party 'debiased' loss, chosen by
// config over the built-in queue, momentum encoder and Shuffle BN, and prints the run's events.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';
import { pathToFileURL } from 'node:url';
import { createMoco, type MocoEvent } from '../../src/index.js'; // 'tfjs-moco' outside this repository
import { builtinPlugins } from '../../plugins/index.js'; // 'tfjs-moco/plugins'
import { debiasedLossPlugin } from './index.js';

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

/** n random 8×8 grayscale images in [0, 1]. */
function randomImages(n: number): tfd.Dataset<tf.Tensor3D> {
  return tfd.array(Array.from({ length: n }, (_, i) => i)).map((i) => tf.randomUniform([8, 8, 1], 0, 1, 'float32', (i as unknown as number) + 1) as tf.Tensor3D);
}

export function describe(e: MocoEvent): string {
  switch (e.type) {
    case 'step':
      return `step ${e.step}: loss ${e.loss.toFixed(4)}, pretext acc ${e.pretextAccuracy.toFixed(2)}, m ${e.keyEncoderMomentum}`;
    case 'epoch-ended':
      return `epoch ${e.epoch}: mean loss ${e.meanLoss.toFixed(4)}`;
    case 'run-started':
      return `run started: loss ${JSON.stringify(e.config.loss)}, ${e.totalSteps} steps`;
    case 'warning':
      return `warning: ${e.message}`;
    default:
      return e.type;
  }
}

export async function run(options: { epochs?: number; stepsPerEpoch?: number; log?: (line: string) => void } = {}): Promise<void> {
  const log = options.log ?? console.log;
  await tf.setBackend('cpu');
  const backbone = tinyBackbone();
  const moco = createMoco({
    backbone,
    plugins: [...builtinPlugins, debiasedLossPlugin],
    config: {
      loss: { id: 'debiased', temperature: 0.2, tauPlus: 0.1 },
      dictionary: { id: 'queue', size: 8 },
      update: { id: 'momentum', keyEncoderMomentum: 0.99 },
      normalization: { id: 'shuffle-bn', groups: 2 },
      augmentation: 'crop-flip',
      head: { dim: 16 },
    },
  });
  moco.events$.subscribe((e) => log(describe(e)));
  await moco.fit(randomImages(12), { epochs: options.epochs ?? 3, batchSize: 4, stepsPerEpoch: options.stepsPerEpoch });
  moco.dispose();
  backbone.dispose(); // in a real run: the trained encoder, kept or saved
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
