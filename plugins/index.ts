// The built-in strategies, each a plugin registered through the same public API a third party uses.
import type { MocoPlugin } from '../src/index.js';
import { batchnormPlugin } from './batchnorm/index.js';
import { cropFlipPlugin } from './crop-flip/index.js';
import { infoncePlugin } from './infonce/index.js';
import { momentumPlugin } from './momentum/index.js';
import { presetsPlugin } from './presets/index.js';
import { queuePlugin } from './queue/index.js';
import { shuffleBnPlugin } from './shuffle-bn/index.js';

export * from './batchnorm/index.js';
export * from './crop-flip/index.js';
export * from './infonce/index.js';
export * from './momentum/index.js';
export * from './presets/index.js';
export * from './queue/index.js';
export * from './shuffle-bn/index.js';

/** Every built-in plugin: pass to createMoco({ plugins: builtinPlugins, ... }). */
export const builtinPlugins: readonly MocoPlugin[] = [
  infoncePlugin,
  queuePlugin,
  momentumPlugin,
  batchnormPlugin,
  shuffleBnPlugin,
  cropFlipPlugin,
  presetsPlugin,
];
