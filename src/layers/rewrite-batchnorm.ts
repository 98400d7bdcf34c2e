import { GroupBatchNormalization } from './group-batch-normalization.js';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object';

export interface RewriteBatchNormOptions {
  /** Sub-batches with their own statistics (1 = plain BatchNorm, computed with the fast gradient). */
  groups: number;
  /**
   * What to do with a BatchNormalization the group layer cannot replace (not over the last axis, or
   * without gamma or beta): 'throw' (the default: a variant that needs groups must not silently skip a
   * layer) or 'keep' (leave it as the stock layer; right when the rewrite is only for speed).
   */
  unsupported?: 'throw' | 'keep';
  /** Names the caller in errors, e.g. 'normalization shuffle-bn'. */
  label?: string;
}

/** Why GroupBatchNormalization cannot stand in for this BatchNormalization config, or undefined. */
function unsupportedReason(c: Node, strictAxis: boolean): string | undefined {
  const axis = Array.isArray(c.axis) ? c.axis[0] : c.axis;
  // Axis 1 is the last axis of an [N, C] input but the channels-first axis of an image; the topology does
  // not say which, so a speed-only rewrite leaves such a layer alone.
  const allowed = strictAxis ? [-1, 3] : [-1, 3, 1];
  if (axis !== undefined && !allowed.includes(axis as number)) return `it normalises axis ${JSON.stringify(c.axis)}, not the last (channel) axis`;
  if (c.center === false || c.scale === false) return 'it has center or scale switched off (no beta or gamma weight)';
  return undefined;
}

/**
 * Replace every BatchNormalization layer in a serialized Keras/tfjs topology (`model.toJSON(null, false)`,
 * edited in place) by a GroupBatchNormalization with `groups` sub-batches, keeping its name, momentum and
 * epsilon so the weights copy over unchanged by layer name. Nested models are walked too. Returns how many
 * layers were replaced. Axis 1 passes for rank-2 inputs ([N, C], whose last axis it is).
 */
export function rewriteBatchNorm(topology: unknown, options: RewriteBatchNormOptions): number {
  const { groups, unsupported = 'throw', label = 'rewriteBatchNorm' } = options;
  let replaced = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!isNode(v)) return;
    if (v.class_name === 'BatchNormalization' && isNode(v.config)) {
      const c = v.config;
      const reason = unsupportedReason(c, unsupported === 'keep');
      if (reason !== undefined) {
        if (unsupported === 'keep') return;
        throw new Error(`${label}: layer '${String(c.name)}' cannot be converted to per-group BatchNorm: ${reason}. Use normalization 'batchnorm' for this model, or change the layer`);
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
