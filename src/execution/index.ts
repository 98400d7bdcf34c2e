// Executors: the ways a training step is carried out (one thread, micro-batched; worker threads in tfjs-moco/node).
export type { StepExecutor, StepResult } from './step-executor.js';
export { OneThreadExecutor } from './one-thread-executor.js';
export { MicroBatchExecutor } from './micro-batch-executor.js';
export { lossAndGradientsInParts, microBatches } from './micro-batches.js';
