// The built-in strategies, each a plugin registered through the same public API a third party uses.
import type { MocoPlugin } from '../src/index.js';
import { batchnormPlugin } from './batchnorm/index.js';
import { cropFlipPlugin } from './crop-flip/index.js';
import { infoncePlugin } from './infonce/index.js';
import { momentumPlugin } from './momentum/index.js';
import { mocov1AugmentationPlugin } from './mocov1-augmentation/index.js';
import { mocov2AugmentationPlugin } from './mocov2-augmentation/index.js';
import { presetsPlugin } from './presets/index.js';
import { queuePlugin } from './queue/index.js';
import { shuffleBnPlugin } from './shuffle-bn/index.js';
import { inBatchPlugin } from './in-batch/index.js';
import { memoryBankPlugin } from './memory-bank/index.js';
import { ncePlugin } from './nce/index.js';
import { noNormalizationPlugin } from './no-normalization/index.js';
import { mechanismPresetsPlugin } from './presets/index.js';
import { sharedEncoderPlugin } from './shared-encoder/index.js';
import { splitBnPlugin } from './split-bn/index.js';

export * from './batchnorm/index.js';
export * from './crop-flip/index.js';
export * from './infonce/index.js';
export * from './momentum/index.js';
export * from './mocov1-augmentation/index.js';
export * from './mocov2-augmentation/index.js';
export * from './presets/index.js';
export * from './queue/index.js';
export * from './shuffle-bn/index.js';
export * from './in-batch/index.js';
export * from './memory-bank/index.js';
export * from './nce/index.js';
export * from './no-normalization/index.js';
export * from './shared-encoder/index.js';
export * from './split-bn/index.js';

/** Every built-in plugin: pass to createMoco({ plugins: builtinPlugins, ... }). */
export const builtinPlugins: readonly MocoPlugin[] = [
  infoncePlugin,
  queuePlugin,
  momentumPlugin,
  batchnormPlugin,
  shuffleBnPlugin,
  cropFlipPlugin,
  mocov1AugmentationPlugin,
  mocov2AugmentationPlugin,
  presetsPlugin,
  ncePlugin,
  memoryBankPlugin,
  inBatchPlugin,
  sharedEncoderPlugin,
  splitBnPlugin,
  noNormalizationPlugin,
  mechanismPresetsPlugin,
];
