import { defineStrategy, strategyPlugin, z } from '../../../src/index.js';
import { CropFlipAugmentation } from './crop-flip-augmentation.js';

export { CropFlipAugmentation };
export * from './random-resized-crop.js';

const range = (lo: number, hi: number) =>
  z
    .tuple([z.number().gt(0).max(hi), z.number().gt(0).max(hi)])
    .refine(([a, b]) => a <= b, { message: 'expected [min, max] with min ≤ max' })
    .default([lo, lo === 0.2 ? 1 : 4 / 3]);

export const cropFlipStrategy = defineStrategy({
  family: 'augmentation',
  id: 'crop-flip',
  description: 'Random resized crop + horizontal flip, per view',
  options: z
    .object({
      /** Crop area share (MoCo: 0.2–1). */
      scale: range(0.2, 1),
      /** Crop aspect ratio w/h. */
      ratio: range(3 / 4, 10),
      flip: z.number().min(0).max(1).default(0.5),
    })
    .strict(),
  create: (o) => new CropFlipAugmentation({ scale: o.scale, ratio: o.ratio }, o.flip),
});

export const cropFlipPlugin = strategyPlugin('tfjs-moco/crop-flip', '0.1.0', [cropFlipStrategy]);
