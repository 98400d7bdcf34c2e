// The default encoder for 28×28×1 images (Fashion-MNIST): a three-stage ResNet in miniature, cheap enough that
// the pure-JS/wasm backends train it at a useful speed. Representation quality within a CPU time budget is
// bounded by images/s (see the Fashion-MNIST reference notes), so this net trades depth for speed.
//
// Layout: the stem keeps full resolution with few channels; every stage halves the resolution (28 → 14 → 7 → 4)
// and doubles the channels, so the pooled feature is 8·width = 128-d at the same cost as a 64-d net whose first
// stage stays at 28×28. Why: the linear probe reads the pooled feature, and 64 dimensions cap it. Measured on
// the full Fashion-MNIST split (60k / 10k, 2026-12-06), stages [16, 32, 64] at strides [1, 2, 2] (64-d) against
// this default [32, 64, 128] at [2, 2, 2] (128-d):
//   - random init: kNN 75.16 → 76.62, linear probe 79.58 → 82.71;
//   - MoCo at equal images (1,990 steps of 64, the default recipe), mean of 2 seeds: kNN 79.94 → 81.00 %, linear
//     probe 82.22 → 85.15 % (docs/recipe.md has the table and commands);
//   - one training step at batch 64 (wasm, one thread, paired): 0.95× the time.
import * as tfl from '@tensorflow/tfjs-layers';
import { basicBlock } from './basic-block.js';
import { LayerFactory } from './layer-factory.js';

export interface SmallConvNetOptions {
  /** [height, width, channels]; default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Channels of the stem; the stages have 2·width, 4·width, 8·width unless `stageWidths` says otherwise. Default 16. */
  width?: number;
  /** Channels of the three stages; default [2·width, 4·width, 8·width]. */
  stageWidths?: [number, number, number];
  /**
   * Stride of each stage's first block; default [2, 2, 2]. `{ stageWidths: [16, 32, 64], stageStrides: [1, 2, 2] }`
   * with width 16 is the earlier 64-d layout, whose first stage runs at full resolution.
   */
  stageStrides?: [number, number, number];
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
 * stem: conv3×3(w) → BN → ReLU at full resolution; stages 1–3: a BasicBlock of 2w, 4w, 8w channels, each with
 * stride 2 (28×28 → 14 → 7 → 4); global average pool → an 8w-d feature vector (no head).
 *
 * At the defaults (28×28×1, width 16): output 128-d, 9.40 M multiply-adds per image (conv only, see countMacs),
 * 302,576 trainable parameters (+ 1,376 BN running statistics). Measured by test/models/small-convnet.test.ts.
 * (For comparison, the PyTorch reference encoder of the Fashion-MNIST notes: 12.2 M MACs, 0.39 M parameters.)
 *
 * Input: float pixels (e.g. uint8/255), NHWC.
 *
 * ```ts
 * const encoder = smallConvNet({ seed: 1 });                    // 28×28×1 → 128-d
 * const wider = smallConvNet({ inputShape: [32, 32, 3], width: 32 }); // 32×32×3 → 256-d
 * ```
 */
export function smallConvNet(opts: SmallConvNetOptions = {}): tfl.LayersModel {
  const inputShape = opts.inputShape ?? [28, 28, 1];
  const width = opts.width ?? 16;
  const blocks = opts.blocksPerStage ?? [1, 1, 1];
  const f = new LayerFactory(opts.seed);
  const input = tfl.input({ shape: inputShape, name: 'input' });
  let x = f.convBnRelu(input, 'stem', width, 3, 1);
  const widths = opts.stageWidths ?? [2 * width, 4 * width, 8 * width];
  const strides = opts.stageStrides ?? [2, 2, 2];
  for (let s = 0; s < 3; s++) {
    for (let b = 0; b < blocks[s]; b++) {
      const stride = b === 0 ? strides[s] : 1;
      x = basicBlock(f, x, `stage${s + 1}_${b}`, widths[s], stride, opts.zeroInitResidual ?? false);
    }
  }
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: pooled, name: opts.name ?? 'small_convnet' });
}
