// Cost figures for an encoder: multiply-accumulates per image and parameter counts. Training speed on a CPU is
// what bounds representation quality within a time budget (see the Fashion-MNIST reference notes), so every
// encoder states its MACs.
import * as tfl from '@tensorflow/tfjs-layers';

type Shape = (number | null)[];

function prod(dims: readonly (number | null)[]): number {
  let p = 1;
  for (const d of dims) {
    if (d == null) throw new Error(`countMacs: unknown dimension in shape [${dims.join(', ')}]`);
    p *= d;
  }
  return p;
}

function singleShape(s: Shape | Shape[]): Shape {
  if (Array.isArray(s[0])) {
    if (s.length !== 1) throw new Error('countMacs: layers with several outputs are not supported');
    return s[0] as Shape;
  }
  return s as Shape;
}

/** Classes whose MACs are (output positions) × (kernel size): every output position uses each kernel weight once. */
const KERNEL_PER_OUTPUT_POSITION = new Set(['Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);

/**
 * Multiply-accumulates per example of the conv and dense layers (nested models included), the usual "FLOPs"
 * figure of the ResNet papers (which count multiply-adds). BatchNorm, activations, adds and pooling are not
 * counted: they are O(activations), not O(activations × fan-in). Biases are not counted.
 *
 * For a conv/dense layer, MACs = (number of output positions, i.e. all output dims except batch and channels)
 * × (number of kernel weights); for SeparableConv2D both kernels are applied at every output position (correct
 * for stride 1; the depthwise part is over-counted with strides). Conv2DTranspose is not supported (throws).
 */
export function countMacs(model: tfl.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) {
      total += countMacs(layer);
      continue;
    }
    const cls = layer.getClassName();
    if (cls === 'Conv2DTranspose') throw new Error(`countMacs: ${cls} (layer ${layer.name}) is not supported`);
    if (!KERNEL_PER_OUTPUT_POSITION.has(cls)) continue;
    const out = singleShape(layer.outputShape as Shape | Shape[]);
    const positions = prod(out.slice(1, -1));
    const kernels = layer.weights.filter((w) => /kernel$/.test(w.originalName));
    for (const k of kernels) total += positions * prod(k.shape);
  }
  return total;
}

export interface ParamCounts {
  /** Weights the optimiser updates (conv kernels, BN gamma/beta, dense weights and biases). */
  trainable: number;
  /** Buffers such as BN running mean/variance (PyTorch counts these as buffers, not parameters). */
  nonTrainable: number;
  total: number;
}

/** Parameter counts split like PyTorch's `sum(p.numel() for p in model.parameters())` (= trainable). */
export function countParams(model: tfl.LayersModel): ParamCounts {
  let trainable = 0;
  for (const w of model.trainableWeights) trainable += prod(w.shape);
  let nonTrainable = 0;
  for (const w of model.nonTrainableWeights) nonTrainable += prod(w.shape);
  return { trainable, nonTrainable, total: trainable + nonTrainable };
}
