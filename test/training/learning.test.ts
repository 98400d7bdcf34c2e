import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { useCpu } from '../helpers/tf.js';
import { syntheticShapes } from '../helpers/synthetic-shapes.js';
import { tinyBackbone } from '../helpers/tiny.js';
import { createMoco, registerCpuTrainingKernels } from '../../src/index.js';
import { imageSetToDataset, type ImageSet } from '../../src/data/index.js';
import { extractFeatures, knnAccuracy } from '../../src/eval/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();
registerCpuTrainingKernels();

async function knn(model: tfl.LayersModel, train: ImageSet, testSet: ImageSet): Promise<number> {
  const a = extractFeatures(model, train);
  const b = extractFeatures(model, testSet);
  try {
    return await knnAccuracy({ trainFeatures: a, trainLabels: train.labels!, testFeatures: b, testLabels: testSet.labels!, numClasses: 4, k: 20 });
  } finally {
    tf.dispose([a, b]);
  }
}

test.serial('a short MoCo run lowers the loss and lifts kNN accuracy above the same encoder at random init', async (t) => {
  // Four shape classes (hollow square, disc, cross, ring) at random places, sizes and contrasts; labels
  // are only used by the kNN evaluation. Everything is seeded, so the numbers below repeat exactly.
  const train = syntheticShapes(64, 16, 1);
  const held = syntheticShapes(32, 16, 2);
  const backbone = tinyBackbone(16, 1, 8, 'learn', 5);
  const before = await knn(backbone, train, held);
  const moco = createMoco({
    backbone,
    plugins: builtinPlugins,
    config: {
      seed: 1,
      dictionary: { size: 128 },
      update: { keyEncoderMomentum: 0.99 },
      normalization: { groups: 4 },
      // Brightness/contrast jitter matters here: without it each image's own intensity is the easiest
      // instance signature, and kNN on shapes gets worse while the pretext task is learned.
      augmentation: { id: 'mocov1', scale: [0.5, 1] },
      loss: { temperature: 0.2 },
      optimizer: { learningRate: 0.1, schedule: 'cosine', weightDecay: 5e-4 },
    },
  });
  const epochLoss: number[] = [];
  moco.on('epoch-ended').subscribe((e) => epochLoss.push(e.meanLoss));
  const started = performance.now();
  await moco.fit(imageSetToDataset(train, { shuffle: true, seed: 3 }), { epochs: 16, batchSize: 32 });
  const seconds = (performance.now() - started) / 1000;
  const after = await knn(backbone, train, held);
  t.log(`kNN (k=20) on held-out shapes: random init ${before.toFixed(3)} → after MoCo ${after.toFixed(3)}; loss (epoch 1) ${epochLoss[1].toFixed(3)} → ${epochLoss.at(-1)!.toFixed(3)}; ${seconds.toFixed(1)} s`);
  // Epoch 0 is easy (the queue still holds random vectors); from epoch 1 on it holds real keys, and the
  // loss falls as the encoder learns to tell images apart (measured: 4.58 → 4.25).
  t.true(epochLoss.at(-1)! < epochLoss[1] - 0.15, `loss ${epochLoss[1]} → ${epochLoss.at(-1)}`);
  // Measured with these seeds: 0.539 → 0.633. Backbone seeds 6 and 7 gave +0.047 and +0.086, so the
  // assertion asks for +0.04, below every gain seen.
  t.true(after > before + 0.04, `kNN ${before} → ${after}`);
  moco.dispose();
});
