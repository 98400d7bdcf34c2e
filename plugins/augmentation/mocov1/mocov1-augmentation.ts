import * as tf from '@tensorflow/tfjs-core';
import type { AugmentationStrategy, Random, StepContext } from '../../../src/index.js';
import { randomFlip, randomResizedCrop } from '../crop-flip/random-resized-crop.js';
import { randomColorJitter } from '../../../src/image-ops/color-jitter.js';
import { randomGrayscale } from '../../../src/image-ops/random-grayscale.js';

export interface MocoV1AugmentationOptions {
  readonly scale: readonly [number, number];
  readonly ratio: readonly [number, number];
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
  readonly hue: number;
  /** Chance each image is colour-jittered (v1: 1). */
  readonly jitter: number;
  readonly grayscale: number;
  readonly flip: number;
}

/**
 * MoCo v1's recipe (He et al. 2020, Sec. 4; the reference main_moco.py), in its order:
 * RandomResizedCrop(scale 0.2–1) → RandomGrayscale(0.2) → ColorJitter(0.4, 0.4, 0.4, 0.4) →
 * horizontal flip, each view drawn independently from `ctx.random`. Output in [0,1], the input's
 * shape (no mean/std normalisation: that belongs to the model). One-channel batches get crop,
 * brightness, contrast and flip (see color-jitter.ts).
 */
export class MocoV1Augmentation implements AugmentationStrategy {
  readonly id: string = 'mocov1';

  constructor(readonly options: MocoV1AugmentationOptions) {}

  views(images: tf.Tensor4D, ctx: StepContext): [tf.Tensor4D, tf.Tensor4D] {
    return [this.view(images, ctx.random), this.view(images, ctx.random)];
  }

  /** One augmented view of the batch. */
  view(images: tf.Tensor4D, random: Random): tf.Tensor4D {
    const o = this.options;
    return tf.tidy(() => {
      let x = randomResizedCrop(images, { scale: o.scale, ratio: o.ratio }, random);
      x = randomGrayscale(x, o.grayscale, random);
      x = randomColorJitter(x, { brightness: o.brightness, contrast: o.contrast, saturation: o.saturation, hue: o.hue, probability: o.jitter }, random);
      return randomFlip(x, o.flip, random);
    });
  }
}
