import { presetModule, type MocoPlugin, type Preset } from '../../src/index.js';
import { mocoV1 } from './moco-presets.js';

/**
 * The two other mechanisms of MoCo's comparison (He et al. 2020, Sec. 4.1, Fig. 3), with the same
 * InfoNCE at τ 0.07 that Fig. 3 uses for all three, on top of the v1 settings (head, optimizer,
 * augmentation). Both emulate the paper's per-GPU BatchNorm over 8 GPUs with 'split-bn': neither has
 * a key encoder, so there is nothing to shuffle.
 */
export const endToEnd: Preset = {
  name: 'end-to-end',
  description: 'End-to-end (MoCo Fig. 2a): keys from the query encoder with gradient, the other keys of the batch as negatives (K = batch − 1)',
  config: {
    ...mocoV1.config,
    loss: { id: 'infonce', temperature: 0.07 },
    dictionary: { id: 'in-batch' },
    update: { id: 'shared' },
    normalization: { id: 'split-bn', groups: 8 },
  },
};

/**
 * Memory bank (Wu et al. 2018; MoCo Fig. 2b): one slot per image, 4096 sampled negatives, slot
 * momentum 0.5. The update rule is kept at the v1 'momentum' only because a config names one: a
 * memory bank builds no key encoder, so it is never used (step events report no momentum).
 */
export const memoryBank: Preset = {
  name: 'memory-bank',
  description: 'Memory bank (Wu et al. 2018, MoCo Fig. 2b): one slot per image, K = 4096 sampled negatives, μ 0.5; needs {xs, index} data',
  config: {
    ...mocoV1.config,
    loss: { id: 'infonce', temperature: 0.07 },
    dictionary: { id: 'memory-bank', negatives: 4096, bankMomentum: 0.5 },
    update: { id: 'momentum', keyEncoderMomentum: 0.999 },
    normalization: { id: 'split-bn', groups: 8 },
  },
};

export const mechanismPresetsPlugin: MocoPlugin = {
  name: 'tfjs-moco/mechanism-presets',
  version: '0.1.0',
  module: presetModule([endToEnd, memoryBank]),
};
