import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainerConfig } from '../config/moco-config.js';
import type { ModelFacts, NormalizationStrategy } from '../strategies/normalization-strategy.js';

import type { WeightPair } from '../strategies/encoder-update-strategy.js';
import { rewriteInputConvs } from '../layers/input-conv2d.js';

/** Layer class names of a model, nested models included. */
export function modelFacts(model: tfl.LayersModel): ModelFacts {
  const classes: string[] = [];
  const visit = (layers: tfl.layers.Layer[]) => {
    for (const l of layers) {
      classes.push(l.getClassName());
      if (l instanceof tfl.LayersModel) visit(l.layers);
    }
  };
  visit(model.layers);
  return { layerClasses: classes };
}

/** Check the backbone the user hands in, with errors that say what to change. */
export function checkBackbone(backbone: unknown): asserts backbone is tfl.LayersModel {
  if (!(backbone instanceof tfl.LayersModel)) {
    throw new TypeError('backbone: expected a tf.LayersModel (from tf.sequential() or tf.model()); got ' + (backbone === null ? 'null' : typeof backbone) + '. If it comes from another copy of @tensorflow/tfjs-layers, install tfjs once so the library shares it (peer dependency).');
  }
  if (backbone.inputs.length !== 1 || backbone.outputs.length !== 1) {
    throw new Error(`backbone: expected one input and one output, got ${backbone.inputs.length} inputs and ${backbone.outputs.length} outputs.`);
  }
  const inShape = backbone.inputs[0].shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => d == null)) {
    throw new Error(`backbone: input must be images [batch, height, width, channels] with known sizes; got ${JSON.stringify(inShape)}.`);
  }
  const outShape = backbone.outputs[0].shape;
  if (outShape.length !== 2) {
    throw new Error(`backbone: output must be a feature vector [batch, features]; got ${JSON.stringify(outShape)}. End the backbone with tf.layers.globalAveragePooling2d() or tf.layers.flatten().`);
  }
}

/** The backbone with a projection head on top (MoCo v1: linear fc; v2: fc-ReLU-fc, Chen et al. 2020). */
export function attachHead(backbone: tfl.LayersModel, head: TrainerConfig['head'], seed: number): tfl.LayersModel {
  let h = backbone.outputs[0];
  // Seeded initializers, so the same config and backbone weights repeat a run exactly.
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 7919 + k });
  if (head.type === 'mlp') {
    h = tfl.layers.dense({ units: head.hidden, activation: 'relu', name: 'moco_head_hidden', kernelInitializer: init(1) }).apply(h) as tfl.SymbolicTensor;
  }
  h = tfl.layers.dense({ units: head.dim, name: 'moco_head_out', kernelInitializer: init(2) }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: backbone.inputs, outputs: h, name: 'moco_encoder' });
}

/** Dispose the layers `attachHead` added on top of `backbone` (their weights), leaving the backbone's alone. */
export function disposeHead(withHead: tfl.LayersModel, backbone: tfl.LayersModel): void {
  const own = new Set<tfl.layers.Layer>();
  const collect = (layers: tfl.layers.Layer[]) => layers.forEach((l) => (own.add(l), l instanceof tfl.LayersModel && collect(l.layers)));
  collect(backbone.layers);
  for (const layer of withHead.layers) if (!own.has(layer) && layer.weights.length > 0) layer.dispose();
}

/**
 * A fresh copy of `model` (own variables) whose topology the normalization variant may rewrite, with
 * the weights copied over. The copy is built from the serialized topology, so any layer the user's
 * model uses must be registered with tf.serialization (as every built-in and well-formed custom layer is).
 */
export async function rebuildEncoder(model: tfl.LayersModel, normalization: NormalizationStrategy, role: 'query' | 'key'): Promise<tfl.LayersModel> {
  // A JSON round trip gives the variant its own copy and drops undefined fields, which the
  // deserializer cannot read.
  const plain = () => JSON.parse(JSON.stringify(model.toJSON(null, false))) as unknown;
  let topology = plain();
  if (normalization.rewriteTopology) topology = JSON.parse(JSON.stringify(normalization.rewriteTopology(topology, role)));
  // The query encoder's first convs skip the gradient of the input images (input-conv2d.ts); the key
  // encoder computes no gradient at all.
  if (role === 'query') rewriteInputConvs(topology);
  const copy = await tfl.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] });
  copyWeights(model, copy);
  return copy;
}

/** Copy every weight from one model to another of the same topology, by position; shapes must agree. */
export function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel): void {
  const src = from.weights;
  const dst = to.weights;
  if (src.length !== dst.length) throw new Error(`copyWeights: ${src.length} weights in '${from.name}' vs ${dst.length} in '${to.name}'`);
  tf.tidy(() => {
    src.forEach((w, i) => {
      if (!tf.util.arraysEqual(w.shape as number[], dst[i].shape as number[])) throw new Error(`copyWeights: weight ${i} '${w.originalName}' has shape ${w.shape} vs ${dst[i].shape}`);
      dst[i].write(tf.clone(w.read()));
    });
  });
}

/** Copy the weights of every layer of `to` from the layer of the same name in `from` (nested models flattened). */
export function copyWeightsByLayerName(from: tfl.LayersModel, to: tfl.LayersModel): void {
  const byName = new Map<string, tfl.layers.Layer>();
  const collect = (layers: tfl.layers.Layer[], into: Map<string, tfl.layers.Layer>) => {
    for (const l of layers) {
      if (l instanceof tfl.LayersModel) collect(l.layers, into);
      else into.set(l.name, l);
    }
  };
  collect(from.layers, byName);
  const targets = new Map<string, tfl.layers.Layer>();
  collect(to.layers, targets);
  tf.tidy(() => {
    for (const [name, layer] of targets) {
      if (layer.weights.length === 0) continue;
      const source = byName.get(name);
      if (!source) throw new Error(`copyWeightsByLayerName: no layer '${name}' in '${from.name}'`);
      source.weights.forEach((w, i) => layer.weights[i].write(tf.clone(w.read())));
    }
  });
}

/**
 * Pair each trainable weight of the query encoder with the same weight of the key encoder, then make
 * the key encoder non-trainable so no optimizer can ever update it (MoCo Sec. 3.2: the key encoder
 * receives no gradient; it moves only by the update rule).
 */
export function pairWeights(query: tfl.LayersModel, key: tfl.LayersModel): WeightPair[] {
  const qw = query.trainableWeights;
  const kw = key.trainableWeights;
  if (qw.length !== kw.length) throw new Error(`pairWeights: ${qw.length} trainable weights vs ${kw.length}`);
  const pairs = qw.map((w, i) => ({ query: w.read() as tf.Variable, key: kw[i].read() as tf.Variable }));
  key.trainable = false;
  return pairs;
}
