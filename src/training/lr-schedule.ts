import type { TrainerConfig } from '../config/moco-config.js';

/**
 * Learning rate at a point of training (`progress` in [0,1], by fractional epoch so it moves every
 * step). 'step' multiplies by gamma at each milestone passed (MoCo v1: ×0.1 at epochs 120 and 160 of
 * 200); 'cosine' is lr·½(1+cos(π·progress)) (MoCo v2, after SGDR).
 */
export function learningRateAt(opt: TrainerConfig['optimizer'], progress: number): number {
  const p = Math.min(Math.max(progress, 0), 1);
  switch (opt.schedule) {
    case 'constant':
      return opt.learningRate;
    case 'step':
      return opt.learningRate * opt.gamma ** opt.milestones.filter((m) => p >= m).length;
    case 'cosine':
      return opt.learningRate * 0.5 * (1 + Math.cos(Math.PI * p));
  }
}
