import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { ConfigError, GroupBatchNormalization, Random, createMoco, type StepContext } from '../../../../src/index.js';
import { NoNormalization, ShuffleBatchNorm, SplitBatchNorm, builtinPlugins } from '../../../../plugins/index.js';

await useCpu();

/** conv → LayerNorm → ReLU → GAP: a backbone normalised per sample, no BatchNormalization. */
function layerNormBackbone(name: string): tfl.LayersModel {
  return tfl.sequential({
    name,
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', name: `${name}_c1` }),
      tfl.layers.layerNormalization({ name: `${name}_ln1` }),
      tfl.layers.activation({ activation: 'relu', name: `${name}_r1` }),
      tfl.layers.globalAveragePooling2d({ name: `${name}_gap` }),
    ],
  });
}
const classes = (m: tfl.LayersModel) => m.layers.map((l) => l.getClassName());

test('split-bn rewrites BatchNormalization to per-group BN and feeds the key encoder the batch in order', (t) => {
  const split = new SplitBatchNorm(4);
  t.is(split.id, 'split-bn');
  t.true(split instanceof ShuffleBatchNorm, 'Shuffle BN with the shuffle off, not a copy');
  const topo = JSON.parse(JSON.stringify(tinyBackbone(8, 1, 4, 'sp').toJSON(null, false)));
  const rewritten = split.rewriteTopology(topo) as { config: { layers: { class_name: string; config: { groups?: number } }[] } };
  const bns = rewritten.config.layers.filter((l) => l.class_name === 'GroupBatchNormalization');
  t.is(bns.length, 2);
  t.true(bns.every((l) => l.config.groups === 4));
  t.false(rewritten.config.layers.some((l) => l.class_name === 'BatchNormalization'));
  // No shuffle: the encoder sees the key view as given, and no random number is drawn.
  const random = new Random(9);
  const ctx: StepContext = { epoch: 0, step: 0, progress: 0, random };
  const view = tf.tensor4d(Array.from({ length: 8 }, (_, i) => i), [8, 1, 1, 1]);
  let seen: number[] = [];
  const keys = split.encodeKeys((x) => ((seen = Array.from(x.dataSync())), tf.reshape(x, [8, 1]) as tf.Tensor2D), view, ctx);
  t.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(Array.from(keys.dataSync()), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.is(random.getState(), new Random(9).getState());
});

test.serial('split-bn trains end to end: both encoders get GroupBatchNormalization, finite loss, flat numTensors', async (t) => {
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'spl'),
    plugins: builtinPlugins,
    config: { normalization: { id: 'split-bn', groups: 2 }, dictionary: { size: 8 }, head: { dim: 8 }, augmentation: 'crop-flip' },
  });
  const counts: number[] = [];
  const losses: number[] = [];
  moco.on('step').subscribe((e) => (losses.push(e.loss), counts.push(tf.memory().numTensors)));
  await moco.fit(randomImages(8), { epochs: 2, batchSize: 4 });
  for (const encoder of [moco.queryEncoder!, moco.keyEncoder!]) {
    const groupBns = encoder.layers.filter((l): l is GroupBatchNormalization => l instanceof GroupBatchNormalization);
    t.is(groupBns.length, 2);
    t.true(groupBns.every((l) => l.groups === 2));
  }
  t.true(losses.length === 4 && losses.every(Number.isFinite));
  t.is(counts[3], counts[1]);
  moco.dispose();
});

test('split-bn refuses a backbone without BatchNormalization; none refuses one with it; both give the reason', (t) => {
  const splitErr = t.throws(() => createMoco({ backbone: layerNormBackbone('lnx'), plugins: builtinPlugins, config: { normalization: 'split-bn' } }), { instanceOf: ConfigError });
  t.regex(splitErr!.message, /normalization: 'split-bn' cannot be used here: the backbone has no BatchNormalization layer, so there are no batch statistics to split; choose normalization 'none'/);
  const noneErr = t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'bnx'), plugins: builtinPlugins, config: { normalization: 'none' } }), { instanceOf: ConfigError });
  t.regex(noneErr!.message, /normalization: 'none' cannot be used here: the backbone has BatchNormalization layers, whose batch statistics let a query find its key \(MoCo Sec\. 3\.3\).*choose 'shuffle-bn', 'split-bn' or 'batchnorm'/);
  t.is(new NoNormalization().checkModel({ layerClasses: ['Conv2D', 'LayerNormalization'] }), undefined);
  t.regex(new NoNormalization().checkModel({ layerClasses: ['GroupBatchNormalization'] })!, /GroupBatchNormalization/);
});

test.serial("'none' trains a LayerNorm backbone unchanged: no rewrite, keys encoded as given", async (t) => {
  const moco = createMoco({ backbone: layerNormBackbone('lnt'), plugins: builtinPlugins, config: { normalization: 'none', dictionary: { size: 8 }, head: { dim: 8 }, augmentation: 'crop-flip' } });
  const losses: number[] = [];
  moco.on('step').subscribe((e) => losses.push(e.loss));
  await moco.fit(randomImages(8), { epochs: 1, batchSize: 4 });
  t.true(classes(moco.queryEncoder!).includes('LayerNormalization'));
  t.true(classes(moco.keyEncoder!).includes('LayerNormalization'));
  t.true(losses.length === 2 && losses.every(Number.isFinite));
  moco.dispose();
});
