export * from './moco.js';
export * from './strategies/index.js';
export * from './registry/index.js';
export * from './events/index.js';
export * from './layers/index.js';
export { trainerConfigSchema, mergeOverPreset, resolveMocoConfig, isResolvedConfig, type MocoConfigInput, type TrainerConfig, type ResolvedConfig } from './config/moco-config.js';
export {
  fitOptionsSchema,
  type FitOptions,
  type FitPlan,
  type DictionarySetupInfo,
  type EpochTask,
  type EpochTaskContext,
  type EpochAwareDataset,
  type TrainerPosition,
  MocoTrainer,
  microBatches,
} from './training/moco-trainer.js';
export { Random } from './training/random.js';
export { l2Normalize } from './training/l2-normalize.js';
export { similarityToKeys } from './training/similarity-to-keys.js';
export { learningRateAt } from './training/lr-schedule.js';
/** The one zod copy strategy option schemas must use. */
export { z } from 'zod';
/** The one inversify copy strategy classes must be decorated with (`@injectable()`, `@inject(RunRandom)`, ...). */
export { inject, injectable, ContainerModule } from 'inversify';
export { withWeightDecay } from './training/weight-decay.js';
export * from './kernels/index.js';
export * from './checkpoint/index.js';
export { attachKnnMonitor, type KnnMonitor, type KnnMonitorOptions } from './eval/knn-monitor.js';
