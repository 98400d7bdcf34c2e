// Gradients of a depthwise 2-D convolution (filter [fh,fw,C,M], output channel c*M+m) written as
// one forward DepthwiseConv2dNative of the same backend. Same ideas as conv-backprop-as-conv.ts;
// the differences are that every channel has its own filter, so the batch is folded into the
// channel axis instead of becoming the contraction axis, and that the forward conv may be dilated.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope.js';
import { cropNegativePads, explicitPadding, insertZeros, type SpatialPads } from './nhwc-geometry.js';

type Shape4 = [number, number, number, number];

export interface DepthwiseBackpropAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * dW[kh,kw,c,m] = sum_{n,oh,ow} x[n, oh*sh - top + kh*dh, ..., c] * dy[n, oh, ow, c*M+m].
 *
 * For each (n, c) this is a single-channel correlation of x[n,:,:,c] with dy[n,:,:,c,:] as the
 * filter (taps spaced by the stride) evaluated at fh x fw positions spaced by the dilation. With
 * (n, c) folded into one channel axis that is a depthwise conv of batch 1:
 *   input  [1, H, W, n*C+c]       filter [oh, ow, n*C+c, M]
 *   strides = forward dilations, dilations = forward strides   -> [1, fh, fw, N*C*M]
 * followed by a sum over n. (tfjs' depthwise gradient requires strides or dilations to be 1, so
 * the inner conv never needs both > 1.)
 */
export function depthwiseBackpropFilterAsConv(
  scope: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: DepthwiseBackpropAttrs & { filterShape: Shape4 },
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, attrs.filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, batchSize: n, inChannels: c } = info;
  const m = attrs.filterShape[3];
  const pads: SpatialPads = {
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: (fh - 1) * dh + (oh - 1) * sh + 1 - info.inHeight - info.padInfo.top,
    right: (fw - 1) * dw + (ow - 1) * sw + 1 - info.inWidth - info.padInfo.left,
  };
  const cropped = cropNegativePads(scope, x, pads);
  const [, h, w] = cropped.x.shape;
  const xFolded = scope.reshape(scope.transpose(cropped.x, [1, 2, 0, 3]), [1, h, w, n * c]);
  const dy5 = scope.reshape(dy, [n, oh, ow, c, m]);
  const dyFolded = scope.reshape(scope.transpose(dy5, [1, 2, 0, 3, 4]), [oh, ow, n * c, m]);
  const out = scope.run(
    'DepthwiseConv2dNative',
    { x: xFolded, filter: dyFolded },
    { strides: [dh, dw], dilations: [sh, sw], pad: explicitPadding(cropped.pads) },
  );
  const perSample = scope.reshape(out, [fh, fw, n, c * m]);
  const summed = n === 1 ? perSample : scope.run('Sum', { x: perSample }, { axis: [2], keepDims: false });
  return scope.reshape(summed, [fh, fw, c, m]);
}

/**
 * dx is the transposed depthwise conv: zero-insert dy by the stride, pad, and correlate with the
 * flipped filter at the forward dilation. A depthwise kernel maps 1 input channel to M outputs,
 * but here M gradient channels must flow back into 1; so the conv runs with multiplier 1 over all
 * C*M channels and the M partial results per channel are summed afterwards.
 */
export function depthwiseBackpropInputAsConv(
  scope: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: DepthwiseBackpropAttrs & { inputShape: Shape4 },
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight, inWidth } = info;
  const [, , c, m] = filter.shape;
  const dilated = insertZeros(scope, dy, sh, sw);
  const pads: SpatialPads = {
    top: (fh - 1) * dh - info.padInfo.top,
    left: (fw - 1) * dw - info.padInfo.left,
    bottom: inHeight + info.padInfo.top - oh * sh,
    right: inWidth + info.padInfo.left - ow * sw,
  };
  const cropped = cropNegativePads(scope, dilated, pads);
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const perChannel = scope.reshape(flipped, [fh, fw, c * m, 1]);
  const out = scope.run(
    'DepthwiseConv2dNative',
    { x: cropped.x, filter: perChannel },
    { strides: [1, 1], dilations: [dh, dw], pad: explicitPadding(cropped.pads) },
  );
  if (m === 1) return out;
  const [n] = out.shape;
  const split = scope.reshape(out, [n, inHeight, inWidth, c, m]);
  return scope.run('Sum', { x: split }, { axis: [4], keepDims: false });
}
