// UnsortedSegmentSum as one linear pass in JS. It is the gradient of gather (GatherV2_grad), the
// op behind shuffle-BN's un-permutation and any embedding lookup. The cpu backend builds it from
// numSegments rounds of Equal/Cast/Multiply/Sum (O(numSegments * size)); a scatter-add is
// O(size) and needs no kernel the wasm backend might lack. The work is memory-bound, so JS on a
// copy of the inputs costs about what a C++ loop would.
import * as tf from '@tensorflow/tfjs-core';

export interface UnsortedSegmentSumArrays {
  values: Float32Array | Int32Array;
  shape: number[];
}

/**
 * out[s, ...rest] = sum over positions p of segmentIds with segmentIds[p] == s of x[p, ...rest].
 * segmentIds' shape is a prefix of x's shape (TF semantics); ids outside [0, numSegments) are
 * dropped, as TF and tfjs' cpu kernel do.
 */
export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  xShape: number[],
  dtype: 'float32' | 'int32',
  segmentIds: ArrayLike<number>,
  segmentIdsShape: number[],
  numSegments: number,
): UnsortedSegmentSumArrays {
  const prefix = segmentIdsShape.length;
  for (let i = 0; i < prefix; i++) {
    if (segmentIdsShape[i] !== xShape[i]) {
      throw new Error(`tfjs-moco: UnsortedSegmentSum segmentIds shape [${segmentIdsShape}] is not a prefix of x shape [${xShape}]`);
    }
  }
  const rest = xShape.slice(prefix);
  const inner = tf.util.sizeFromShape(rest);
  // Float sums accumulate in float64 (as tfjs' cpu Sum does) and are rounded once at the end.
  const out = dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float64Array(numSegments * inner);
  const count = segmentIds.length;
  for (let p = 0; p < count; p++) {
    const s = segmentIds[p];
    if (s < 0 || s >= numSegments) continue;
    const src = p * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
  return { values: out instanceof Float64Array ? Float32Array.from(out) : out, shape: [numSegments, ...rest] };
}
