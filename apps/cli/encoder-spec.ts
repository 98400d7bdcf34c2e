// --model: the encoder architecture the CLI builds (the library itself takes any LayersModel).
import * as tfl from '@tensorflow/tfjs-layers';
import { resnet18Cifar, smallConvNet } from '../../src/models/index.js';

import { CliError } from './cli-error.js';
import type { ModelName } from './constants.js';

export { MODEL_NAMES, type ModelName } from './constants.js';

export interface EncoderSpec {
  name: ModelName;
  /** Channels of the first stage; default: the model's own (small-convnet 16, resnet18-cifar 64, tiny 4). */
  width?: number;
  /** small-convnet only: channels of its stages (see smallConvNet). */
  stageWidths?: [number, number, number];
  /** small-convnet only: stride of each stage's first block (see smallConvNet). */
  stageStrides?: [number, number, number];
  /** Seed of the initialisers (so the random-init baseline is the very starting point); ≥ 1. */
  seed: number;
}

/** Build the encoder for images of `inputShape` [h, w, c]. */
export function buildEncoder(spec: EncoderSpec, inputShape: [number, number, number]): tfl.LayersModel {
  if (spec.name !== 'small-convnet' && (spec.stageWidths || spec.stageStrides)) {
    throw new CliError(`model.stageWidths and model.stageStrides apply to small-convnet only, not ${spec.name}: remove them or set model.name to small-convnet`);
  }
  switch (spec.name) {
    case 'small-convnet':
      return smallConvNet({ inputShape, width: spec.width, seed: spec.seed, stageWidths: spec.stageWidths, stageStrides: spec.stageStrides });
    case 'resnet18-cifar':
      return resnet18Cifar({ inputShape, width: spec.width, seed: spec.seed });
    case 'tiny':
      return tinyConvNet(inputShape, spec.width ?? 4, spec.seed);
  }
}

/** conv(w) → BN → ReLU → conv(2w, stride 2) → BN → ReLU → global average pool: for tests and smoke runs. */
function tinyConvNet(inputShape: [number, number, number], width: number, seed: number): tfl.LayersModel {
  // +1: tfjs treats a seed of 0 as no seed.
  const init = (k: number) => tfl.initializers.heNormal({ seed: seed + k + 1 });
  return tfl.sequential({
    name: 'tiny_convnet',
    layers: [
      tfl.layers.conv2d({ inputShape, filters: width, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(0), name: 'c1' }),
      tfl.layers.batchNormalization({ name: 'bn1', momentum: 0.9 }),
      tfl.layers.activation({ activation: 'relu', name: 'r1' }),
      tfl.layers.conv2d({ filters: 2 * width, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(1), name: 'c2' }),
      tfl.layers.batchNormalization({ name: 'bn2', momentum: 0.9 }),
      tfl.layers.activation({ activation: 'relu', name: 'r2' }),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
    ],
  });
}
