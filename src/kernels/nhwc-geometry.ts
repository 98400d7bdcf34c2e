// Spatial reshaping steps shared by the conv-gradient kernels: zero-insertion ("dilating" a
// gradient by the stride) and turning a required padding into explicit conv pads, cropping where
// it is negative. All tensors are NHWC.
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope.js';

export interface SpatialPads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

export function explicitPadding(p: SpatialPads): ExplicitPadding {
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

/**
 * Conv kernels take only non-negative pads, but the backprop geometry sometimes asks for a
 * negative one (rows the forward conv never read, e.g. the last row of an odd-sized input under
 * a stride-2 1x1 conv). Those rows are sliced off instead; the returned pads are all >= 0.
 */
export function cropNegativePads(
  scope: KernelScope,
  x: tf.TensorInfo,
  pads: SpatialPads,
): { x: tf.TensorInfo; pads: SpatialPads } {
  const cropTop = Math.max(0, -pads.top);
  const cropBottom = Math.max(0, -pads.bottom);
  const cropLeft = Math.max(0, -pads.left);
  const cropRight = Math.max(0, -pads.right);
  const clamped: SpatialPads = {
    top: Math.max(0, pads.top),
    bottom: Math.max(0, pads.bottom),
    left: Math.max(0, pads.left),
    right: Math.max(0, pads.right),
  };
  if (cropTop + cropBottom + cropLeft + cropRight === 0) return { x, pads: clamped };
  const [n, h, w, c] = x.shape;
  const keptH = h - cropTop - cropBottom;
  const keptW = w - cropLeft - cropRight;
  if (keptH <= 0 || keptW <= 0) {
    throw new Error(`tfjs-moco: degenerate conv geometry, nothing left after cropping [${x.shape}] by ${JSON.stringify(pads)}`);
  }
  const cropped = scope.slice(x, [0, cropTop, cropLeft, 0], [n, keptH, keptW, c]);
  return { x: cropped, pads: clamped };
}

/**
 * Inserts (stride - 1) zeros after every row and column: [N,H,W,C] -> [N,H*sh,W*sw,C]. Done as
 * reshape to [N,H,1,W,1,C], one PadV2 on the singleton axes and reshape back, so it needs no
 * scatter kernel. The result keeps (s-1) trailing zero rows/columns beyond the last real one;
 * callers subtract them from the bottom/right pads.
 */
export function insertZeros(scope: KernelScope, x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const expanded = scope.reshape(x, [n, h, 1, w, 1, c]);
  const padded = scope.run(
    'PadV2',
    { x: expanded },
    { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 },
  );
  return scope.reshape(padded, [n, h * sh, w * sw, c]);
}
