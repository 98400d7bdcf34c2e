// The ResNet BasicBlock (He et al. 2016, "Deep Residual Learning for Image Recognition"), as in torchvision and
// the CIFAR ResNets of the MoCo demos: two 3×3 convs, and a 1×1 conv + BN projection on the shortcut when the
// stride or the width changes ("option B").
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerFactory } from './layer-factory.js';

/**
 * Layer names: `${name}_conv1`, `_bn1`, `_relu1`, `_conv2`, `_bn2`, `_shortcut_conv`, `_shortcut_bn`, `_add`,
 * `_relu2` — stable, so query/key encoders and saved checkpoints map weights by name.
 */
export function basicBlock(
  f: LayerFactory,
  x: tfl.SymbolicTensor,
  name: string,
  filters: number,
  strides: number,
  zeroInitResidual = false,
): tfl.SymbolicTensor {
  const inChannels = x.shape[x.shape.length - 1];
  let out = f.conv(x, `${name}_conv1`, filters, 3, strides);
  out = f.relu(f.bn(out, `${name}_bn1`), `${name}_relu1`);
  out = f.conv(out, `${name}_conv2`, filters, 3, 1);
  out = f.bn(out, `${name}_bn2`, zeroInitResidual);
  let shortcut = x;
  if (strides !== 1 || inChannels !== filters) {
    shortcut = f.bn(f.conv(x, `${name}_shortcut_conv`, filters, 1, strides), `${name}_shortcut_bn`);
  }
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([out, shortcut]) as tfl.SymbolicTensor;
  return f.relu(sum, `${name}_relu2`);
}
