export * from './group-batch-normalization.js';
