// The default encoder for 28×28×1 images (Fashion-MNIST): a three-stage ResNet in miniature, cheap enough that
// the pure-JS/wasm backends train it at a useful speed. Representation quality within a CPU time budget is
// bounded by images/s (see the Fashion-MNIST reference notes), so this net trades depth for speed.
import * as tfl from '@tensorflow/tfjs-layers';
import { basicBlock } from './basic-block.js';
import { LayerFactory } from './layer-factory.js';

export interface SmallConvNetOptions {
  /** [height, width, channels]; default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Channels of the first stage; stages have width, 2·width, 4·width. Default 16. */
  width?: number;
  /** BasicBlocks per stage; default [1, 1, 1]. */
  blocksPerStage?: [number, number, number];
  /** Seed for the conv initialisers (reproducible init); default: random. */
  seed?: number;
  /** Start the last BN gamma of each block at 0 (Goyal et al. 2017); default false (PyTorch default). */
  zeroInitResidual?: boolean;
  /** Model name; layer names do not depend on it, so two instances map weights by layer name. */
  name?: string;
}

/**
 * stem: conv3×3(w) → BN → ReLU at full resolution; stage 1: BasicBlock(w) stride 1; stage 2: BasicBlock(2w)
 * stride 2; stage 3: BasicBlock(4w) stride 2; global average pool → a 4w-d feature vector (no head).
 *
 * At the defaults (28×28×1, width 16): output 64-d, 9.35 M multiply-adds per image (conv only, see countMacs),
 * 77,104 trainable parameters (+ 672 BN running statistics). Measured by test/models/small-convnet.test.ts.
 * (For comparison, the PyTorch reference encoder of the Fashion-MNIST notes: 12.2 M MACs, 0.39 M parameters.)
 *
 * Input: float pixels (e.g. uint8/255), NHWC.
 */
export function smallConvNet(opts: SmallConvNetOptions = {}): tfl.LayersModel {
  const inputShape = opts.inputShape ?? [28, 28, 1];
  const width = opts.width ?? 16;
  const blocks = opts.blocksPerStage ?? [1, 1, 1];
  const f = new LayerFactory(opts.seed);
  const input = tfl.input({ shape: inputShape, name: 'input' });
  let x = f.convBnRelu(input, 'stem', width, 3, 1);
  const widths = [width, 2 * width, 4 * width];
  for (let s = 0; s < 3; s++) {
    for (let b = 0; b < blocks[s]; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      x = basicBlock(f, x, `stage${s + 1}_${b}`, widths[s], stride, opts.zeroInitResidual ?? false);
    }
  }
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: pooled, name: opts.name ?? 'small_convnet' });
}
