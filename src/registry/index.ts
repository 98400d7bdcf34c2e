export * from './strategy-family.js';
export * from './strategy-factory.js';
export * from './moco-plugin.js';
export * from './preset.js';
export * from './config-error.js';
export * from './strategy-registry.js';
