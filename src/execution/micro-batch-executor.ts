import * as tf from '@tensorflow/tfjs-core';
import type { MocoStep, StepBatch } from '../step/moco-step.js';
import type { StepContext } from '../strategies/step-context.js';
import { lossAndGradientsInParts } from './micro-batches.js';
import type { StepExecutor, StepResult } from './step-executor.js';

/**
 * One optimizer step per batch, its forward/backward passes in micro-batches of at most `microBatch` images
 * (gradients accumulated, micro-batches.ts): a batch larger than memory allows (the wasm backend's 4 GiB)
 * still trains with the batch's numbers. The update is applied only when the summed loss and gradients are finite.
 *
 * @example
 * const executor = new MicroBatchExecutor(moco.trainingStep!, 64); // a batch of 256 as 4 passes of 64
 * const { loss } = await executor.run({ images }, ctx, 0.03);
 */
export class MicroBatchExecutor implements StepExecutor {
  constructor(
    private readonly step: MocoStep,
    private readonly microBatch: number,
  ) {}

  async run(batch: StepBatch, ctx: StepContext, learningRate: number): Promise<StepResult> {
    const result = tf.tidy(() => {
      const views = this.step.views(batch.images, ctx);
      const batchSize = views[0].shape[0];
      return lossAndGradientsInParts(this.step, views, batch.indices, ctx, { batchSize, microBatch: this.microBatch });
    });
    try {
      const reading = this.step.readAndUpdate(result, batch.indices, ctx, learningRate);
      return { ...reading, batch: batch.images.shape[0], applied: reading.finite };
    } finally {
      tf.dispose([...Object.values(result.grads), result.loss, result.accuracy, ...result.keys, ...result.queries]);
    }
  }

  dispose(): void {}
}
