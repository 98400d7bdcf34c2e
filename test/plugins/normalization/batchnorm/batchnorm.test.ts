import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { createMoco } from '../../../../src/index.js';
import { PlainBatchNorm, builtinPlugins } from '../../../../plugins/index.js';

await useCpu();

test('batchnorm trains with the one-group layer by default and keeps the stock layer with gradient "autodiff"', (t) => {
  const topology = () => JSON.parse(JSON.stringify(tinyBackbone(8, 1, 4, 'bnt', 1).toJSON(null, false)));
  const classes = (topo: { config: { layers: { class_name: string; config: { groups?: number } }[] } }) => topo.config.layers.map((l) => l.class_name + (l.config.groups ? `(${l.config.groups})` : ''));
  const fast = new PlainBatchNorm().rewriteTopology(topology()) as never;
  t.deepEqual(classes(fast).filter((c) => c.includes('BatchNorm')), ['GroupBatchNormalization(1)', 'GroupBatchNormalization(1)']);
  const stock = new PlainBatchNorm('autodiff').rewriteTopology(topology()) as never;
  t.deepEqual(classes(stock).filter((c) => c.includes('BatchNorm')), ['BatchNormalization', 'BatchNormalization']);
});

test.serial('the hand-written and autodiff BatchNorm train the same: equal losses and exported weights over 3 steps', async (t) => {
  const run = async (gradient: 'hand-written' | 'autodiff') => {
    const moco = createMoco({
      backbone: tinyBackbone(8, 1, 4, 'bneq', 5),
      plugins: builtinPlugins,
      config: { seed: 2, head: { dim: 8 }, dictionary: { size: 16 }, normalization: { id: 'batchnorm', gradient } },
    });
    const losses: number[] = [];
    moco.on('step').subscribe((e) => losses.push(e.loss));
    await moco.fit(randomImages(12, 8, 1, 3), { epochs: 1, batchSize: 4 });
    const encoder = moco.exportEncoder();
    const weights = encoder.getWeights().map((w) => tf.clone(w));
    const layerClasses = encoder.layers.map((l) => l.getClassName());
    moco.dispose();
    return { losses, weights, layerClasses };
  };
  const a = await run('hand-written');
  const b = await run('autodiff');
  t.is(a.losses.length, 3);
  a.losses.forEach((l, i) => t.true(Math.abs(l - b.losses[i]) < 1e-4, `step ${i}: ${l} vs ${b.losses[i]}`));
  // the exported encoder is the user's own model: stock BatchNormalization, trained weights equal
  t.deepEqual(a.layerClasses.filter((c) => c.includes('BatchNorm')), ['BatchNormalization', 'BatchNormalization']);
  const worst = Math.max(...a.weights.map((w, i) => maxAbsDiff(w, b.weights[i])));
  t.true(worst < 1e-4, `max weight difference ${worst}`);
  const moved = maxAbsDiff(a.weights[0], tinyBackbone(8, 1, 4, 'bneq', 5).getWeights()[0]);
  t.true(moved > 1e-4, 'training changed the weights');
  tf.dispose([...a.weights, ...b.weights]);
});
