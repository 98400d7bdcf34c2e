export * from './step-context.js';
export * from './capabilities.js';
export * from './run-services.js';
export * from './loss-strategy.js';
export * from './dictionary-strategy.js';
export * from './encoder-update-strategy.js';
export * from './normalization-strategy.js';
export * from './augmentation-strategy.js';
