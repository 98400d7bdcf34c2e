import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { MocoV1Augmentation, type MocoV1AugmentationOptions } from './mocov1-augmentation.js';
import { recipeFields } from './options.js';

export { MocoV1Augmentation, type MocoV1AugmentationOptions };

export const mocov1AugmentationStrategy = defineStrategy({
  family: 'augmentation',
  id: 'mocov1',
  description: 'MoCo v1: random resized crop (0.2–1), grayscale p 0.2, colour jitter 0.4/0.4/0.4/0.4, flip',
  options: z.object(recipeFields({ hue: 0.4, jitter: 1 })).strict(),
  create: (o) => new MocoV1Augmentation(o),
});

export const mocov1AugmentationPlugin = strategyPlugin('tfjs-moco/mocov1-augmentation', '0.1.0', [mocov1AugmentationStrategy]);
