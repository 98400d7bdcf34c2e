// The `tfjs-moco/kernels` entry: backend selection and the training kernels tfjs-moco adds to the wasm and cpu
// backends, with the pieces benchmarks and tests inspect (stock-kernel bookkeeping, dispatch thresholds).
export {
  selectBackend,
  BACKEND_PACKAGES,
  type BackendAttempt,
  type BackendChoice,
  type BackendPreference,
  type ModuleImporter,
  type SelectBackendOptions,
} from './select-backend.js';
export { MOCO_TRAINING_KERNELS, missingTrainingKernels } from './training-kernels.js';
export {
  registerWasmTrainingKernels,
  wasmConvKernels,
  shouldUseConvBackpropInput,
  CONV_BACKPROP_INPUT_MIN_MACS,
  type KernelRegistrationReport,
} from './wasm-training-kernels.js';
export {
  WASM_TRAINING_KERNELS_DEFAULTS,
  wasmTrainingKernelsConfig,
  type BackpropInputPolicy,
  type WasmConvKernels,
  type WasmTrainingKernelsArgs,
} from './wasm-kernel-options.js';
export { registerCpuTrainingKernels, stockConv2DBackpropFilter, CPU_REPLACED_KERNELS } from './cpu-training-kernels.js';
export {
  getStockKernel,
  requireStockKernel,
  restoreStockKernel,
  isMocoKernel,
  type RegistrationOutcome,
} from './kernel-registration.js';
export { emaUpdate, fusedEmaAvailable, FUSED_EMA_KERNEL, type EmaPair } from './fused-ema.js';
export { groupAffine, groupAffineKernelAvailable, GROUP_AFFINE_KERNEL, type GroupAffineTerm } from './group-affine.js';
export { similarityToKeysKernelAvailable, SIMILARITY_TO_KEYS_KERNEL } from './similarity-to-keys-kernel.js';
export { permuteRows, permuteRowsKernelAvailable, PERMUTE_ROWS_KERNEL } from './permute-rows.js';
