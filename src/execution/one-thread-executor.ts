import * as tf from '@tensorflow/tfjs-core';
import type { MocoStep, StepBatch } from '../step/moco-step.js';
import type { StepContext } from '../strategies/step-context.js';
import type { StepExecutor, StepResult } from './step-executor.js';

/**
 * The whole batch in one forward/backward pass on this thread: the step as Algorithm 1 writes it. The update
 * is applied only when the step's loss and gradients are finite (MocoStep.readAndUpdate).
 *
 * @example
 * const executor = new OneThreadExecutor(moco.trainingStep!);
 * const { loss, accuracy, applied } = await executor.run({ images }, ctx, 0.03);
 */
export class OneThreadExecutor implements StepExecutor {
  constructor(private readonly step: MocoStep) {}

  async run(batch: StepBatch, ctx: StepContext, learningRate: number): Promise<StepResult> {
    const result = tf.tidy(() => this.step.lossAndGradients(this.step.views(batch.images, ctx), batch.indices, ctx));
    try {
      const reading = this.step.readAndUpdate(result, batch.indices, ctx, learningRate);
      return { ...reading, batch: batch.images.shape[0], applied: reading.finite };
    } finally {
      tf.dispose([...Object.values(result.grads), result.loss, result.accuracy, ...result.keys, ...result.queries]);
    }
  }

  dispose(): void {}
}
