// The `tfjs-moco/node` entry: what needs Node. File loaders (IDX files, image folders, the Fashion-MNIST
// package), the disk implementation behind checkpoints and model files, and data-parallel training on worker
// threads. The main entry ('tfjs-moco') imports none of it, so it bundles for a browser.
export * from './data/index.js';
export { defaultCheckpointFs as nodeCheckpointFs, type CheckpointFs } from '../checkpoint/checkpoint-fs.js';
export { WorkerExecutor, workerThreadExecutor } from './execution/worker-executor.js';
export { liveReplicaWorkers } from './execution/replica-group.js';
