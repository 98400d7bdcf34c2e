// Batched, seeded image augmentations as tfjs ops, shared by the augmentation recipes.
export * from './color-jitter.js';
export * from './gaussian-blur.js';
export * from './per-image.js';
export * from './random-grayscale.js';
export * from './rgb-hsv.js';
