// The networks a MoCo step acts on (He et al. 2020, Algorithm 1): the query encoder f_q trained by SGD, and
// the key encoder f_k that follows it, with the pairs of weights the encoder update moves.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainerConfig } from '../config/moco-config.js';
import type { WeightPair } from '../strategies/encoder-update-strategy.js';
import type { NormalizationStrategy } from '../strategies/normalization-strategy.js';
import { attachHead, disposeHead, pairWeights, rebuildEncoder } from './moco-encoders.js';

export interface MocoNetworks {
  /** f_q: backbone + projection head, trained by the optimizer. */
  readonly query: tfl.LayersModel;
  /** f_k: a copy of f_q that receives no gradient (undefined when keys come from f_q or a bank). */
  readonly key: tfl.LayersModel | undefined;
  /** Each trainable weight of f_q with the f_k weight that follows it (empty without a key encoder). */
  readonly weightPairs: readonly WeightPair[];
  /** f_q's trainable variables: exactly what the optimizer updates. */
  readonly trainable: readonly tf.Variable[];
  /** SGD with (heavy-ball) momentum, as the paper trains f_q. */
  readonly optimizer: tf.MomentumOptimizer;
}

/**
 * Build f_q from the user's backbone plus the configured head (head weights seeded from `config.seed`), the
 * normalization variant's rewrite applied; and, when `withKeyEncoder`, f_k as its exact copy (Algorithm 1:
 * `f_k.params = f_q.params`).
 */
export async function buildNetworks(
  backbone: tfl.LayersModel,
  config: Pick<TrainerConfig, 'head' | 'seed' | 'optimizer'>,
  normalization: NormalizationStrategy,
  withKeyEncoder: boolean,
): Promise<MocoNetworks> {
  const combined = attachHead(backbone, config.head, config.seed);
  const query = await rebuildEncoder(combined, normalization, 'query');
  // The scaffold's head layers were only a template for the copy; the backbone layers are the user's.
  disposeHead(combined, backbone);
  const key = withKeyEncoder ? await rebuildEncoder(query, normalization, 'key') : undefined;
  const weightPairs = key ? pairWeights(query, key) : [];
  const trainable = query.trainableWeights.map((w) => w.read() as tf.Variable);
  const { learningRate, momentum: sgdMomentum } = config.optimizer;
  return { query, key, weightPairs, trainable, optimizer: tf.train.momentum(learningRate, sgdMomentum) };
}

/** Free the encoders' copies and the optimizer's state (the user's backbone is not touched). */
export function disposeNetworks(networks: MocoNetworks): void {
  networks.query.dispose();
  networks.key?.dispose();
  networks.optimizer.dispose();
  // tfjs 4.22: MomentumOptimizer.dispose() does not free its parent SGDOptimizer's learning-rate scalar.
  (networks.optimizer as unknown as { c?: tf.Scalar }).c?.dispose();
}
