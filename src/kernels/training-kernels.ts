// Which kernels a conv-net training step needs, and which of them a backend lacks. tfjs has no
// per-kernel fallback to another backend: one missing kernel stops training with "Kernel 'X' not
// registered for backend 'Y'" in the middle of the first backward pass. Checking up front turns
// that into a backend-selection decision.
import * as tf from '@tensorflow/tfjs-core';

/**
 * The kernels one MoCo step dispatches (query encoder forward + backward with conv, BN, ReLU,
 * dense; key encoder forward; L2 normalization; InfoNCE logits and cross-entropy; momentum SGD;
 * EMA; queue update), recorded on cpu with tf.profile, plus GatherV2/UnsortedSegmentSum (shuffle-BN
 * and its gradient), Transpose, and what BatchNorm and the queue use on wasm (AvgPool,
 * FusedDepthwiseConv2D: src/layers/channel-ops.ts; TensorScatterUpdate: the enqueue).
 */
export const MOCO_TRAINING_KERNELS: readonly string[] = Object.freeze([
  'Abs', 'Add', 'BatchMatMul', 'Cast', 'Concat', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
  'Equal', 'Exp', 'FusedBatchNorm', 'FusedConv2D', 'GreaterEqual', 'Identity', 'Log', 'Max', 'Maximum',
  'Mean', 'Multiply', 'Neg', 'PadV2', 'Pow', 'RealDiv', 'Relu', 'Reshape', 'Rsqrt', 'Slice', 'SplitV',
  'Sqrt', 'Square', 'Step', 'Sub', 'Sum', 'Tile', 'ZerosLike', '_FusedMatMul', 'GatherV2',
  'UnsortedSegmentSum', 'Transpose', 'AvgPool', 'FusedDepthwiseConv2D', 'TensorScatterUpdate',
]);

/** The names in `kernelNames` that have no kernel registered for `backendName`, in list order. */
export function missingTrainingKernels(
  backendName: string,
  kernelNames: readonly string[] = MOCO_TRAINING_KERNELS,
): string[] {
  return kernelNames.filter((name) => tf.getKernel(name, backendName) == null);
}
