export * from './moco.js';
export * from './strategies/index.js';
export * from './registry/index.js';
export * from './events/index.js';
export * from './layers/index.js';
export { trainerConfigSchema, mergeOverPreset, resolveMocoConfig, isResolvedConfig, type MocoConfigInput, type TrainerConfig, type ResolvedConfig } from './config/moco-config.js';
export { fitOptionsSchema, type FitOptions, type WorkerExecutorFactory, type WorkerSetup } from './training/fit-options.js';
export type { EpochTask, EpochTaskContext, EpochAwareDataset } from './training/epoch-task.js';
export type { Checkpointable, DictionarySetupInfo, FitPlan, NamedWeight, TrainingPosition, TrainingState } from './training/training-state.js';
export * from './execution/index.js';
export { MocoStep, concatRows, type Strategies, type StepBatch, type StepGradients, type Views } from './step/moco-step.js';
export type { MocoNetworks } from './step/moco-networks.js';
export { Random } from './random/random.js';
export { l2Normalize } from './math/l2-normalize.js';
export { similarityToKeys } from './math/similarity-to-keys.js';
export { learningRateAt } from './training/lr-schedule.js';
/** The one zod copy strategy option schemas must use. */
export { z } from 'zod';
/** The one inversify copy strategy classes must be decorated with (`@injectable()`, `@inject(RunRandom)`, ...). */
export { inject, injectable, ContainerModule } from 'inversify';
export { withWeightDecay } from './step/weight-decay.js';
export * from './kernels/index.js';
export * from './checkpoint/index.js';
export { resumeMoco, type ResumeMocoOptions } from './resume-moco.js';
export { attachKnnMonitor, type KnnMonitor, type KnnMonitorOptions } from './eval/knn-monitor.js';
