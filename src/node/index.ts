// The Node-only part of the library ('tfjs-moco/node'): file loaders and data-parallel training on worker threads.
export * from './data/index.js';
export { WorkerExecutor, workerThreadExecutor } from './execution/worker-executor.js';
export { liveReplicaWorkers } from './execution/replica-group.js';
