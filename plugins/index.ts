// The built-in strategies, each a plugin registered through the same public API a third party uses.
import type { MocoPlugin } from '../src/index.js';
import { batchnormPlugin } from './normalization/batchnorm/index.js';
import { cropFlipPlugin } from './augmentation/crop-flip/index.js';
import { infoncePlugin } from './loss/infonce/index.js';
import { momentumPlugin } from './update/momentum/index.js';
import { mocov1AugmentationPlugin } from './augmentation/mocov1/index.js';
import { mocov2AugmentationPlugin } from './augmentation/mocov2/index.js';
import { presetsPlugin } from './presets/index.js';
import { queuePlugin } from './dictionary/queue/index.js';
import { shuffleBnPlugin } from './normalization/shuffle-bn/index.js';
import { inBatchPlugin } from './dictionary/in-batch/index.js';
import { memoryBankPlugin } from './dictionary/memory-bank/index.js';
import { ncePlugin } from './loss/nce/index.js';
import { noNormalizationPlugin } from './normalization/none/index.js';
import { mechanismPresetsPlugin } from './presets/index.js';
import { sharedEncoderPlugin } from './update/shared/index.js';
import { splitBnPlugin } from './normalization/split-bn/index.js';

export * from './normalization/batchnorm/index.js';
export * from './augmentation/crop-flip/index.js';
export * from './loss/infonce/index.js';
export * from './update/momentum/index.js';
export * from './augmentation/mocov1/index.js';
export * from './augmentation/mocov2/index.js';
export * from './presets/index.js';
export * from './dictionary/queue/index.js';
export * from './normalization/shuffle-bn/index.js';
export * from './dictionary/in-batch/index.js';
export * from './dictionary/memory-bank/index.js';
export * from './loss/nce/index.js';
export * from './normalization/none/index.js';
export * from './update/shared/index.js';
export * from './normalization/split-bn/index.js';

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
