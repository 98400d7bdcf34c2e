import * as tf from '@tensorflow/tfjs-core';
import type { AugmentationStrategy, Random, StepContext } from '../../../src/index.js';
import { randomFlip, randomResizedCrop } from '../crop-flip/random-resized-crop.js';
import { randomColorJitter } from '../../../src/image-ops/color-jitter.js';
import { blurKernelSize, randomGaussianBlur } from '../../../src/image-ops/gaussian-blur.js';
import { randomGrayscale } from '../../../src/image-ops/random-grayscale.js';
import type { MocoV1AugmentationOptions } from '../mocov1/mocov1-augmentation.js';

export interface MocoV2AugmentationOptions extends MocoV1AugmentationOptions {
  /** Chance each image is blurred (0.5). */
  readonly blur: number;
  /** Blur σ range (0.1–2). */
  readonly sigma: readonly [number, number];
  /** Blur kernel size as a share of the image's shorter side (0.1), made odd, at least 3. */
  readonly blurKernel: number;
}

/**
 * MoCo v2's "aug+" (Chen et al. 2020; the reference main_moco.py --aug-plus), in its order:
 * RandomResizedCrop(0.2–1) → ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8 → RandomGrayscale(0.2) →
 * GaussianBlur(σ 0.1–2) with p 0.5 → horizontal flip. Each view is drawn independently from
 * `ctx.random`. One-channel batches get crop, brightness, contrast, blur and flip.
 */
export class MocoV2Augmentation implements AugmentationStrategy {
  readonly id: string = 'mocov2';

  constructor(readonly options: MocoV2AugmentationOptions) {}

  views(images: tf.Tensor4D, ctx: StepContext): [tf.Tensor4D, tf.Tensor4D] {
    return [this.view(images, ctx.random), this.view(images, ctx.random)];
  }

  /** One augmented view of the batch. */
  view(images: tf.Tensor4D, random: Random): tf.Tensor4D {
    const o = this.options;
    const [, height, width] = images.shape;
    const kernelSize = blurKernelSize(height, width, o.blurKernel);
    return tf.tidy(() => {
      let x = randomResizedCrop(images, { scale: o.scale, ratio: o.ratio }, random);
      x = randomColorJitter(x, { brightness: o.brightness, contrast: o.contrast, saturation: o.saturation, hue: o.hue, probability: o.jitter }, random);
      x = randomGrayscale(x, o.grayscale, random);
      x = randomGaussianBlur(x, { probability: o.blur, sigma: o.sigma, kernelSize }, random);
      return randomFlip(x, o.flip, random);
    });
  }
}
