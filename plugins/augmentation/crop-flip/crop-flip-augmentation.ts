import type * as tf from '@tensorflow/tfjs-core';
import type { AugmentationStrategy, StepContext } from '../../../src/index.js';
import { randomFlip, randomResizedCrop, type CropOptions } from './random-resized-crop.js';

/**
 * The minimal recipe: random resized crop and horizontal flip, drawn independently for each view.
 * It suits grayscale data where colour augmentations do not apply.
 */
export class CropFlipAugmentation implements AugmentationStrategy {
  readonly id = 'crop-flip';

  constructor(
    readonly crop: CropOptions,
    readonly flipProbability: number,
  ) {}

  views(images: tf.Tensor4D, ctx: StepContext): [tf.Tensor4D, tf.Tensor4D] {
    const view = () => randomFlip(randomResizedCrop(images, this.crop, ctx.random), this.flipProbability, ctx.random);
    return [view(), view()];
  }
}
