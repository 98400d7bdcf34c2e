// ResNet-18 for 32×32 inputs, the backbone of the MoCo CIFAR-10 demo and of most CIFAR self-supervised baselines
// (He et al. 2016 with the CIFAR stem used by kuangliu/pytorch-cifar and the MoCo demo: a 3×3 stride-1 stem and no
// max-pool, so the four stages run at 32, 16, 8 and 4 pixels).
import * as tfl from '@tensorflow/tfjs-layers';
import { basicBlock } from './basic-block.js';
import { LayerFactory } from './layer-factory.js';

export interface ResNetCifarOptions {
  /** [height, width, channels]; default [32, 32, 3]. */
  inputShape?: [number, number, number];
  /** Channels of the first stage; stages have w, 2w, 4w, 8w. Default 64 (standard ResNet-18). */
  width?: number;
  /** BasicBlocks per stage; default [2, 2, 2, 2] (ResNet-18). [3, 4, 6, 3] gives ResNet-34. */
  blocksPerStage?: [number, number, number, number];
  /** Seed for the conv initialisers (reproducible init); default: random. */
  seed?: number;
  /** Start the last BN gamma of each block at 0 (Goyal et al. 2017); default false (PyTorch default). */
  zeroInitResidual?: boolean;
  /** Model name; layer names do not depend on it, so two instances map weights by layer name. */
  name?: string;
}

/**
 * stem conv3×3(w) → BN → ReLU; stages of BasicBlocks at widths w, 2w, 4w, 8w (stride 2 at the start of stages
 * 2–4, 1×1 conv + BN projection shortcuts); global average pool → an 8w-d feature vector (no fc head).
 *
 * Trainable parameters (PyTorch's count, without fc): 11,168,832 at width 64 (+ 9,600 BN running statistics),
 * 700,176 at width 16 (+ 2,400). Multiply-adds per 32×32 image: 555.4 M at width 64, 35.0 M at width 16.
 * Measured by test/models/resnet-cifar.test.ts.
 */
export function resnet18Cifar(opts: ResNetCifarOptions = {}): tfl.LayersModel {
  const inputShape = opts.inputShape ?? [32, 32, 3];
  const width = opts.width ?? 64;
  const blocks = opts.blocksPerStage ?? [2, 2, 2, 2];
  const f = new LayerFactory(opts.seed);
  const input = tfl.input({ shape: inputShape, name: 'input' });
  let x = f.convBnRelu(input, 'stem', width, 3, 1);
  for (let s = 0; s < 4; s++) {
    for (let b = 0; b < blocks[s]; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      x = basicBlock(f, x, `layer${s + 1}_${b}`, width * 2 ** s, stride, opts.zeroInitResidual ?? false);
    }
  }
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: pooled, name: opts.name ?? 'resnet18_cifar' });
}
