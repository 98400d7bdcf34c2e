import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradients with coupled L2 weight decay added, g ← g + wd·θ, as torch.optim.SGD's `weight_decay`
 * applies it (MoCo uses 1e-4); tfjs optimizers have no such option. Call inside a tidy.
 */
export function withWeightDecay(grads: tf.NamedTensorMap, variables: readonly tf.Variable[], weightDecay: number): tf.NamedTensorMap {
  if (weightDecay === 0) return grads;
  const byName = new Map(variables.map((v) => [v.name, v]));
  const out: tf.NamedTensorMap = {};
  for (const [name, g] of Object.entries(grads)) {
    const v = byName.get(name);
    if (!v) throw new Error(`withWeightDecay: gradient for unknown variable '${name}'`);
    out[name] = tf.add(g, tf.mul(v, weightDecay));
  }
  return out;
}
