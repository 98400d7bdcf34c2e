export * from './group-batch-normalization.js';
export * from './rewrite-batchnorm.js';
export * from './input-conv2d.js';
