// Both gradients of a 2-D convolution written as one forward Conv2D of the same backend, so a
// backend with a fast forward conv (wasm: XNNPACK; cpu: its flat-array loop) gets fast gradients.
// NHWC, dilation 1 in the forward conv (tfjs' Conv2D gradient refuses dilations > 1 anyway).
//
// Notation: forward y[n,oh,ow,co] = sum_{kh,kw,ci} x[n, oh*sh - top + kh, ow*sw - left + kw, ci]
// * w[kh,kw,ci,co].
import * as tf from '@tensorflow/tfjs-core';
import type { KernelScope } from './kernel-scope.js';
import { cropNegativePads, explicitPadding, insertZeros, type SpatialPads } from './nhwc-geometry.js';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | ExplicitPaddingAttr;
type ExplicitPaddingAttr = tf.backend_util.ExplicitPadding;

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: Shape4;
}

export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: Shape4;
}

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh - top + kh, ow*sw - left + kw, ci] * dy[n,oh,ow,co].
 *
 * Read as a convolution whose batch is ci, whose contraction ("input channel") axis is the batch n,
 * and whose filter is dy with its taps spaced by the stride (filter dilation = stride):
 *   input  X' = x transposed to [ci, H, W, n]
 *   filter F' = dy transposed to [oh, ow, n, co]
 *   out[ci,kh,kw,co] = sum_{oh,ow,n} X'[ci, kh + oh*sh - top, kw + ow*sw - left, n] * F'[oh,ow,n,co]
 * with stride 1 and exactly fh x fw output positions. That is the classic dW = im2col(x)^T . dy
 * contraction, but executed by the backend's optimized forward conv instead of a scalar loop.
 */
export function conv2dBackpropFilterAsConv(
  scope: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: Conv2DBackpropFilterAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
  // The padded input must be exactly long enough for fh taps of a window spanning (oh-1)*sh+1 rows.
  const pads: SpatialPads = {
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: fh + (oh - 1) * sh - info.inHeight - info.padInfo.top,
    right: fw + (ow - 1) * sw - info.inWidth - info.padInfo.left,
  };
  const cropped = cropNegativePads(scope, x, pads);
  const xT = scope.transpose(cropped.x, [3, 1, 2, 0]);
  const dyT = scope.transpose(dy, [1, 2, 0, 3]);
  const out = scope.run(
    'Conv2D',
    { x: xT, filter: dyT },
    { strides: [1, 1], pad: explicitPadding(cropped.pads), dataFormat: 'NHWC', dilations: [sh, sw] },
  );
  return scope.transpose(out, [1, 2, 0, 3]);
}

/**
 * dx is the transposed convolution of dy: insert (stride-1) zeros between dy's pixels, pad so
 * that every input position sees the full filter, and correlate with the spatially flipped filter
 * whose in/out channel axes are swapped:
 *   dx[n,h,w,ci] = sum_{kh,kw,co} dyPad[n, h+kh, w+kw, co] * w[fh-1-kh, fw-1-kw, ci, co]
 * Top pad = fh-1-top; bottom pad = H + top - oh*sh (the zero insertion already appended sh-1 rows).
 * Stride-2 layers waste 3/4 of the MACs on inserted zeros; that is still several times faster
 * than wasm's scalar Conv2DBackpropInput loop at wide layers (see wasm-training-kernels.ts).
 */
export function conv2dBackpropInputAsConv(
  scope: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: Conv2DBackpropInputAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
  const dilated = insertZeros(scope, dy, sh, sw);
  const pads: SpatialPads = {
    top: fh - 1 - info.padInfo.top,
    left: fw - 1 - info.padInfo.left,
    bottom: info.inHeight + info.padInfo.top - oh * sh,
    right: info.inWidth + info.padInfo.left - ow * sw,
  };
  const cropped = cropNegativePads(scope, dilated, pads);
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = scope.transpose(flipped, [0, 1, 3, 2]);
  return scope.run(
    'Conv2D',
    { x: cropped.x, filter: swapped },
    { strides: [1, 1], pad: explicitPadding(cropped.pads), dataFormat: 'NHWC', dilations: [1, 1] },
  );
}
