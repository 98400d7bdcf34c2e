import type * as tf from '@tensorflow/tfjs-core';
import type { ModelFacts, NormalizationStrategy } from '../../../src/index.js';

/** Layers whose training-mode output depends on the other samples of the batch. */
export const BATCH_STATISTICS_LAYERS: readonly string[] = ['BatchNormalization', 'GroupBatchNormalization'];

/**
 * No batch-statistics normalization at all: for backbones normalised per sample (GroupNorm,
 * LayerNorm) or not at all, where the BN information leak of MoCo Sec. 3.3 cannot arise and nothing
 * needs rewriting or shuffling. A backbone with BatchNormalization is refused at config load, since
 * 'none' would otherwise leave that leak in place unnoticed.
 */
export class NoNormalization implements NormalizationStrategy {
  readonly id = 'none';

  checkModel(facts: ModelFacts): string | undefined {
    const found = [...new Set(facts.layerClasses.filter((c) => BATCH_STATISTICS_LAYERS.includes(c)))];
    return found.length
      ? `the backbone has ${found.join(' and ')} layers, whose batch statistics let a query find its key (MoCo Sec. 3.3); 'none' is for models normalised per sample (GroupNorm, LayerNorm): choose 'shuffle-bn', 'split-bn' or 'batchnorm'`
      : undefined;
  }

  encodeKeys(encode: (x: tf.Tensor4D) => tf.Tensor2D, view: tf.Tensor4D): tf.Tensor2D {
    return encode(view);
  }
}
