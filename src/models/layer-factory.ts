// Layer constructors shared by the encoders: conv (no bias) → BatchNorm → ReLU, with PyTorch-like settings, so a
// network built here behaves like the PyTorch reference code MoCo and its CIFAR demos are written in.
import * as tfl from '@tensorflow/tfjs-layers';
import { tfjsSeed } from '../random/random.js';

/**
 * BatchNorm momentum in the Keras/tfjs convention (weight of the old running value): 0.9 here is PyTorch's
 * `momentum=0.1`, the default of `nn.BatchNorm2d` that every MoCo reference implementation uses.
 * (tfjs's own default, 0.99, makes the running statistics lag ten times longer, which hurts kNN monitoring
 * of short CPU runs evaluated with training=false.)
 */
export const BN_MOMENTUM = 0.9;
/** PyTorch's `nn.BatchNorm2d` default epsilon (tfjs defaults to 1e-3). */
export const BN_EPSILON = 1e-5;

/**
 * Hands out conv initialisers: He-normal with fan-out, the init torchvision's ResNet uses
 * (`kaiming_normal_(mode='fan_out', nonlinearity='relu')`, He et al. 2015). With a seed, every layer gets its
 * own derived seed (seed, seed+1, …) in construction order, so a model is reproducible but its layers differ.
 */
export class LayerFactory {
  private count = 0;

  constructor(private readonly seed?: number) {}

  private nextSeed(): number | undefined {
    return this.seed === undefined ? undefined : tfjsSeed(this.seed + this.count++);
  }

  /** A k×k convolution without bias ('same' padding); the following BatchNorm's beta makes a bias redundant. */
  conv(
    x: tfl.SymbolicTensor,
    name: string,
    filters: number,
    kernelSize: number,
    strides = 1,
  ): tfl.SymbolicTensor {
    // Note: with stride 2 on an even input, 'same' pads 0 before / 1 after, PyTorch's padding=1 pads 1/1. The
    // output size is identical; only weights ported from PyTorch would see a one-pixel shift.
    return tfl.layers
      .conv2d({
        name,
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.varianceScaling({
          scale: 2,
          mode: 'fanOut',
          distribution: 'normal',
          seed: this.nextSeed(),
        }),
      })
      .apply(x) as tfl.SymbolicTensor;
  }

  /**
   * BatchNorm with PyTorch's defaults (momentum 0.1 in PyTorch terms, epsilon 1e-5, gamma 1, beta 0).
   * `zeroGamma` starts gamma at 0 (Goyal et al. 2017, "zero-init residual"), available for the last BN of a block.
   */
  bn(x: tfl.SymbolicTensor, name: string, zeroGamma = false): tfl.SymbolicTensor {
    return tfl.layers
      .batchNormalization({
        name,
        axis: -1,
        momentum: BN_MOMENTUM,
        epsilon: BN_EPSILON,
        gammaInitializer: zeroGamma ? 'zeros' : 'ones',
      })
      .apply(x) as tfl.SymbolicTensor;
  }

  relu(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
    return tfl.layers.activation({ name, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  }

  convBnRelu(x: tfl.SymbolicTensor, name: string, filters: number, kernelSize: number, strides = 1): tfl.SymbolicTensor {
    return this.relu(this.bn(this.conv(x, `${name}_conv`, filters, kernelSize, strides), `${name}_bn`), `${name}_relu`);
  }
}
