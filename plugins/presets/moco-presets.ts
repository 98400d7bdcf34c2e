import type { Preset } from '../../src/index.js';

/**
 * MoCo v1 (He et al. 2020, Sec. 3.3 and 4): InfoNCE at τ 0.07, a 65536-key queue, momentum 0.999,
 * Shuffle BN over 8 GPUs, linear 128-d head, SGD lr 0.03 with ×0.1 steps at epochs 120 and 160 of 200.
 */
export const mocoV1: Preset = {
  name: 'mocov1',
  description: 'MoCo v1 (He et al. 2020): linear head, τ 0.07, K 65536, m 0.999, Shuffle BN, step lr',
  config: {
    head: { type: 'linear', dim: 128 },
    optimizer: { learningRate: 0.03, momentum: 0.9, weightDecay: 1e-4, schedule: 'step', milestones: [0.6, 0.8], gamma: 0.1 },
    loss: { id: 'infonce', temperature: 0.07 },
    dictionary: { id: 'queue', size: 65536 },
    update: { id: 'momentum', keyEncoderMomentum: 0.999 },
    normalization: { id: 'shuffle-bn', groups: 8 },
    augmentation: { id: 'mocov1' },
  },
};

/** MoCo v2 (Chen et al. 2020): MLP head (2048 hidden), τ 0.2, cosine lr; augmentation set by its plugin. */
export const mocoV2: Preset = {
  name: 'mocov2',
  description: 'MoCo v2 (Chen et al. 2020): MLP head, τ 0.2, cosine lr, otherwise as v1',
  config: {
    ...mocoV1.config,
    head: { type: 'mlp', dim: 128, hidden: 2048 },
    optimizer: { learningRate: 0.03, momentum: 0.9, weightDecay: 1e-4, schedule: 'cosine' },
    loss: { id: 'infonce', temperature: 0.2 },
    augmentation: { id: 'mocov2' },
  },
};

/** What a config that names no preset gets: the paper's v1 settings. */
export const defaultPreset: Preset = { ...mocoV1, name: 'default', description: 'The default: MoCo v1 settings' };
