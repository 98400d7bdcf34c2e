import { ShuffleBatchNorm } from '../shuffle-bn/index.js';

/**
 * Split ("ghost") BatchNorm: both encoders compute BatchNorm statistics per group of consecutive
 * samples (GroupBatchNormalization), as G GPUs each normalising their own sub-batch do, with no
 * shuffle of the key batch. It is Shuffle BN with the shuffle switched off (MoCo Sec. 3.3), and the
 * single-device way to reproduce per-GPU BN of the paper's 8-GPU end-to-end and memory-bank runs;
 * the MoCo CIFAR demo's SplitBatchNorm (`--bn-splits`) is the same layer.
 */
export class SplitBatchNorm extends ShuffleBatchNorm {
  override readonly id: string = 'split-bn';

  constructor(groups: number) {
    super(groups, false);
  }
}
