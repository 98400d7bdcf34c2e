// Backend selection and the training kernels tfjs-moco adds to the wasm and cpu backends.
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
  setWasmBackpropInputPolicy,
  setWasmConvKernels,
  setWasmSimdInPlace,
  wasmConvKernels,
  type WasmConvKernels,
  shouldUseConvBackpropInput,
  CONV_BACKPROP_INPUT_MIN_MACS,
  type BackpropInputPolicy,
  type KernelRegistrationReport,
} from './wasm-training-kernels.js';
export { registerCpuTrainingKernels, stockConv2DBackpropFilter, CPU_REPLACED_KERNELS } from './cpu-training-kernels.js';
export {
  getStockKernel,
  requireStockKernel,
  restoreStockKernel,
  isMocoKernel,
  type RegistrationOutcome,
} from './kernel-registration.js';
export { emaUpdate, fusedEmaAvailable, FUSED_EMA_KERNEL, type EmaPair } from './fused-ema.js';
