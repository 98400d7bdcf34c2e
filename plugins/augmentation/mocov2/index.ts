import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { positiveRange, probability, recipeFields } from '../mocov1/options.js';
import { MocoV2Augmentation, type MocoV2AugmentationOptions } from './mocov2-augmentation.js';

export { MocoV2Augmentation, type MocoV2AugmentationOptions };

export const mocov2AugmentationStrategy = defineStrategy({
  family: 'augmentation',
  id: 'mocov2',
  description: 'MoCo v2 aug+: crop (0.2–1), jitter 0.4/0.4/0.4/0.1 p 0.8, grayscale p 0.2, Gaussian blur σ 0.1–2 p 0.5, flip',
  options: z
    .object({
      ...recipeFields({ hue: 0.1, jitter: 0.8 }),
      /** GaussianBlur probability (0.5). */
      blur: probability(0.5),
      /** GaussianBlur σ range, drawn uniformly per image (0.1–2). */
      sigma: positiveRange([0.1, 2]),
      /** GaussianBlur kernel size as a share of the shorter image side (0.1: 224 → 23), made odd, at least 3. */
      blurKernel: z.number().gt(0).max(1).default(0.1),
    })
    .strict(),
  create: (o) => new MocoV2Augmentation(o),
});

export const mocov2AugmentationPlugin = strategyPlugin('tfjs-moco/mocov2-augmentation', '0.1.0', [mocov2AugmentationStrategy]);
