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
export { NonFiniteLossError } from './training/non-finite.js';
export { readStep, readingOf, describeNonFinite, type StepReading } from './step/step-reading.js';
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
// Backend selection and kernel registration; the kernels' internals are in the 'tfjs-moco/kernels' entry.
export {
  selectBackend,
  BACKEND_PACKAGES,
  type BackendAttempt,
  type BackendChoice,
  type BackendPreference,
  type ModuleImporter,
  type SelectBackendOptions,
} from './kernels/select-backend.js';
export { MOCO_TRAINING_KERNELS, missingTrainingKernels } from './kernels/training-kernels.js';
export { registerWasmTrainingKernels, type KernelRegistrationReport } from './kernels/wasm-training-kernels.js';
export { WASM_TRAINING_KERNELS_DEFAULTS, type BackpropInputPolicy, type WasmConvKernels, type WasmTrainingKernelsArgs } from './kernels/wasm-kernel-options.js';
export { registerCpuTrainingKernels } from './kernels/cpu-training-kernels.js';
export { emaUpdate, type EmaPair } from './kernels/fused-ema.js';
export { permuteRows } from './kernels/permute-rows.js';
export * from './checkpoint/index.js';
export { resumeMoco, type ResumeMocoOptions } from './resume-moco.js';
export { attachKnnMonitor, type KnnMonitor, type KnnMonitorOptions } from './eval/knn-monitor.js';
// Evaluation of a pretrained encoder: features, kNN, linear probe, baselines.
export * from './eval/index.js';
// Data from tensors and arrays (image sets in memory); file loaders are in 'tfjs-moco/node'.
export * from './data/index.js';
// Encoders: the small conv net and the CIFAR ResNet-18.
export * from './models/index.js';
