import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { useCpu } from '../helpers/tf.js';
import { rewriteBatchNorm } from '../../src/index.js';

test.before(async () => {
  await useCpu();
});

const topologyOf = (m: tfl.LayersModel) => JSON.parse(JSON.stringify(m.toJSON(null, false)));

function model(...bns: tfl.layers.Layer[]): tfl.LayersModel {
  return tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [4, 4, 3], filters: 2, kernelSize: 1 }), ...bns] });
}

test('rewriteBatchNorm turns every BatchNormalization into GroupBatchNormalization, keeping its settings', (t) => {
  const m = model(tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn_a' }));
  const topo = topologyOf(m);
  t.is(rewriteBatchNorm(topo, { groups: 4 }), 1);
  const layer = topo.config.layers[1];
  t.is(layer.class_name, 'GroupBatchNormalization');
  t.like(layer.config, { name: 'bn_a', groups: 4, momentum: 0.9, epsilon: 1e-5 });
});

test('a layer the group layer cannot replace: named error by default, left stock with unsupported "keep"', (t) => {
  const m = model(tfl.layers.batchNormalization({ name: 'bn_ok' }), tfl.layers.batchNormalization({ name: 'bn_noscale', scale: false }));
  const err = t.throws(() => rewriteBatchNorm(topologyOf(m), { groups: 8, label: 'normalization shuffle-bn' }));
  t.regex(err!.message, /^normalization shuffle-bn: layer 'bn_noscale' cannot be converted.*center or scale switched off.*Use normalization 'batchnorm'/);
  const topo = topologyOf(m);
  t.is(rewriteBatchNorm(topo, { groups: 1, unsupported: 'keep' }), 1);
  t.deepEqual(topo.config.layers.slice(1).map((l: { class_name: string }) => l.class_name), ['GroupBatchNormalization', 'BatchNormalization']);
  // channels-first (axis 1) is ambiguous in a topology: a speed-only rewrite keeps it
  const cf = topologyOf(model(tfl.layers.batchNormalization({ axis: 1 })));
  t.is(rewriteBatchNorm(cf, { groups: 1, unsupported: 'keep' }), 0);
});
