// Names the command line accepts; kept free of heavy imports so `--help` starts fast.
export const MODEL_NAMES = ['small-convnet', 'resnet18-cifar', 'tiny'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export const BACKEND_NAMES = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
