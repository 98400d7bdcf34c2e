import { z } from '../../../src/index.js';

/** A probability in [0, 1] with its default. */
export const probability = (byDefault: number) => z.number().min(0).max(1).default(byDefault);

/** A [min, max] range of positive numbers, min ≤ max, at most `max`. */
export const positiveRange = (byDefault: [number, number], max = Infinity) =>
  z
    .tuple([z.number().gt(0).max(max), z.number().gt(0).max(max)])
    .refine(([a, b]) => a <= b, { message: 'expected [min, max] with min ≤ max' })
    .default(byDefault);

/** A jitter strength ≥ 0 (0 turns that adjustment off). */
export const strength = (byDefault: number, max = Infinity) => z.number().min(0).max(max).default(byDefault);

/**
 * The options the MoCo recipes share (crop, colour jitter, grayscale, flip), with the given
 * defaults for the ones v1 and v2 set differently. Flat, like crop-flip's, so a CLI can set each.
 */
export function recipeFields(defaults: { hue: number; jitter: number }) {
  return {
    /** RandomResizedCrop area share (MoCo: 0.2–1). */
    scale: positiveRange([0.2, 1], 1),
    /** RandomResizedCrop aspect ratio w/h (torchvision: 3/4–4/3). */
    ratio: positiveRange([3 / 4, 4 / 3], 10),
    /** ColorJitter brightness: factor ∈ [1 − b, 1 + b] (MoCo 0.4). */
    brightness: strength(0.4),
    /** ColorJitter contrast: factor ∈ [1 − c, 1 + c] (MoCo 0.4). */
    contrast: strength(0.4),
    /** ColorJitter saturation: factor ∈ [1 − s, 1 + s] (MoCo 0.4). */
    saturation: strength(0.4),
    /** ColorJitter hue: shift ∈ [−h, h] of a turn, ≤ 0.5 (v1 0.4, v2 0.1). */
    hue: strength(defaults.hue, 0.5),
    /** Chance each image is colour-jittered (v1 1: always; v2 0.8). */
    jitter: probability(defaults.jitter),
    /** RandomGrayscale probability (MoCo 0.2). */
    grayscale: probability(0.2),
    /** Horizontal flip probability. */
    flip: probability(0.5),
  };
}
