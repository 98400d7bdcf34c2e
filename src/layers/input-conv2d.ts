// The first convolution of a training copy, the one that reads the encoder's input images.
//
// Why: every tfjs-layers Conv2D runs tfjs-core's fused conv, whose custom gradient computes the
// input gradient and the filter gradient together. For the first conv that input gradient is the
// gradient of the augmented images, which nothing reads: a whole transposed convolution per step
// thrown away (11 ms of a 430 ms ResNet-18 w16 step at batch 64 on wasm, where its 3 output
// channels fit the SIMD loops badly). The unfused tf.conv2d has one gradient function per input,
// and tfjs evaluates only those on a path to a variable, so the image gradient is never computed,
// and is still computed correctly where a caller asks for it.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Conv2D } from '@tensorflow/tfjs-layers/dist/layers/convolutional.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';

type ConvArgs = Parameters<typeof tfl.layers.conv2d>[0];

// tfjs-layers exports its layer classes only through the factory functions.
const Conv2DClass = tfl.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: ConvArgs) => Conv2D;

/** The parts of Conv2D's state the unfused call reads (protected in tfjs-layers' typings). */
interface ConvState {
  kernel: LayerVariable;
  bias: LayerVariable | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

/** A Conv2D (same config, same weights in the same order) that runs tf.conv2d unfused. */
export class InputConv2D extends Conv2DClass {
  static className = 'MocoInputConv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const s = this as unknown as ConvState;
    if (s.dataFormat !== 'channelsLast' || (s.padding !== 'same' && s.padding !== 'valid')) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const dilations = (Array.isArray(s.dilationRate) ? s.dilationRate : [s.dilationRate, s.dilationRate]) as [number, number];
      let y: tf.Tensor = tf.conv2d(x, s.kernel.read() as tf.Tensor4D, s.strides as [number, number], s.padding as 'same' | 'valid', 'NHWC', dilations);
      if (s.bias) y = tf.add(y, s.bias.read());
      return s.activation.apply(y);
    });
  }
}
// Conv2D's static fromConfig is inherited; the constructor type above does not show it.
tf.serialization.registerClass(InputConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object';

/**
 * In a serialized functional model (`model.toJSON(null, false)`, edited in place), turn every Conv2D
 * that reads only the model's inputs into an InputConv2D. Returns how many were turned. Sequential
 * and nested models are left alone (the library's training copies are functional: the backbone's
 * layers with the projection head).
 */
export function rewriteInputConvs(topology: unknown): number {
  if (!isNode(topology) || !isNode(topology.config)) return 0;
  const { layers, input_layers: inputLayers } = topology.config;
  if (!Array.isArray(layers) || !Array.isArray(inputLayers)) return 0;
  const inputs = new Set(inputLayers.map((entry) => (Array.isArray(entry) ? entry[0] : undefined)));
  let turned = 0;
  for (const layer of layers) {
    if (!isNode(layer) || layer.class_name !== 'Conv2D' || !Array.isArray(layer.inbound_nodes) || layer.inbound_nodes.length === 0) continue;
    const readsInputsOnly = layer.inbound_nodes.every(
      (node) => Array.isArray(node) && node.length > 0 && node.every((entry) => Array.isArray(entry) && inputs.has(entry[0])),
    );
    if (readsInputsOnly) {
      layer.class_name = InputConv2D.className;
      turned++;
    }
  }
  return turned;
}
