import type { MocoStep, StepBatch } from '../step/moco-step.js';
import type { StepContext } from '../strategies/step-context.js';
import type { StepExecutor, StepResult } from './step-executor.js';

/**
 * The whole batch in one forward/backward pass on this thread: the step as Algorithm 1 writes it.
 *
 * @example
 * const executor = new OneThreadExecutor(moco.trainingStep!);
 * const { loss, accuracy } = await executor.run({ images }, ctx, 0.03);
 */
export class OneThreadExecutor implements StepExecutor {
  constructor(private readonly step: MocoStep) {}

  async run(batch: StepBatch, ctx: StepContext, learningRate: number): Promise<StepResult> {
    const stats = this.step.run(batch, ctx, learningRate);
    const [loss, accuracy] = stats.dataSync();
    stats.dispose();
    return { loss, accuracy, batch: batch.images.shape[0] };
  }

  dispose(): void {}
}
