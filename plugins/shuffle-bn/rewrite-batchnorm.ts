import { GroupBatchNormalization } from '../../src/index.js';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object';

/**
 * Replace every BatchNormalization layer in a serialized Keras/tfjs topology by a
 * GroupBatchNormalization with `groups` sub-batches, keeping its name, momentum and epsilon (so the
 * weights copy over unchanged). Nested models are walked too. Returns how many layers were replaced.
 */
export function rewriteBatchNorm(topology: unknown, groups: number): number {
  let replaced = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!isNode(v)) return;
    if (v.class_name === 'BatchNormalization' && isNode(v.config)) {
      const c = v.config;
      const axis = Array.isArray(c.axis) ? c.axis[0] : c.axis;
      if (axis !== undefined && axis !== -1 && axis !== 3 && axis !== 1) {
        throw new Error(`layer '${String(c.name)}': Shuffle BN supports BatchNormalization over the last (channel) axis only; got axis ${JSON.stringify(c.axis)}`);
      }
      v.class_name = GroupBatchNormalization.className;
      v.config = {
        name: c.name,
        trainable: c.trainable,
        dtype: c.dtype,
        ...(c.batch_input_shape ? { batch_input_shape: c.batch_input_shape } : {}),
        groups,
        momentum: c.momentum,
        epsilon: c.epsilon,
      };
      replaced++;
      return;
    }
    for (const child of Object.values(v)) visit(child);
  };
  visit(topology);
  return replaced;
}
