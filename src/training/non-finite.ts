// The error a diverged run stops with (fit option `nonFinite`, fit-loop.ts).
import { describeNonFinite, type StepReading } from '../step/step-reading.js';

/**
 * A step's loss or gradients were NaN or ±Infinity, and the fit's `nonFinite` policy says stop (or its skips ran
 * out). The step's update was not applied and no checkpoint was written after it: the last checkpoint on disk
 * is from a finite state.
 */
export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  constructor(
    /** The 0-based step whose numbers were not finite. */
    readonly step: number,
    /** What the step read: loss, pretext accuracy, gradient norm. */
    readonly reading: Pick<StepReading, 'loss' | 'accuracy' | 'gradientNorm' | 'statisticsFinite'>,
    /** Steps skipped before (policy 'skip'). */
    readonly skipped = 0,
  ) {
    const what = describeNonFinite({ ...reading, finite: false });
    const after = skipped > 0 ? ` after ${skipped} skipped non-finite step${skipped === 1 ? '' : 's'} (nonFinite.maxSkips)` : '';
    super(
      `training diverged at step ${step}: ${what}${after}; the step was not applied and the last checkpoint is from before it. ` +
        'Likely causes: a learning rate too high (lower optimizer.learningRate), bad input data (NaN/Infinity pixels), or float32 overflow (a lower temperature or learning rate)',
    );
  }
}
