export * from './group-batch-normalization.js';
export * from './rewrite-batchnorm.js';
