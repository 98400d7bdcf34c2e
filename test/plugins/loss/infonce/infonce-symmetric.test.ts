import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { createMoco, defineStrategy, strategyPlugin, z, type AugmentationStrategy } from '../../../../src/index.js';
import { builtinPlugins } from '../../../../plugins/index.js';

await useCpu();

/** Deterministic views: the image and its mirror image (or the other way round), so runs can be compared. */
const fixedViews = strategyPlugin('test/fixed-views', '0.0.0', [
  defineStrategy({
    family: 'augmentation',
    id: 'fixed-views',
    description: 'view 1 = image, view 2 = mirrored image (swap: the other way round)',
    options: z.object({ swap: z.boolean().default(false) }).strict(),
    create: (o): AugmentationStrategy => ({
      id: 'fixed-views',
      views: (images) => {
        const mirrored = tf.image.flipLeftRight(images) as tf.Tensor4D;
        return o.swap ? [mirrored, images] : [images, mirrored];
      },
    }),
  }),
]);

test.serial('a symmetric InfoNCE step scores exactly the sum of the two asymmetric losses (views swapped)', async (t) => {
  const weights = tinyBackbone(8, 1, 4, 'sym').getWeights();
  // One step from identical weights, queue and data; the loss reported is the one before the update.
  const firstLoss = async (symmetric: boolean, swap: boolean) => {
    const backbone = tinyBackbone(8, 1, 4, 'sym');
    backbone.setWeights(weights);
    const moco = createMoco({
      backbone,
      plugins: [...builtinPlugins, fixedViews],
      // Plain BN: Shuffle BN would draw a different permutation for the second view order.
      config: { seed: 3, head: { dim: 8 }, dictionary: { size: 8 }, normalization: 'batchnorm', loss: { temperature: 0.2, symmetric }, augmentation: { id: 'fixed-views', swap } },
    });
    let loss = NaN;
    moco.on('step').subscribe((e) => (loss = e.loss));
    await moco.fit(randomImages(4), { epochs: 1, batchSize: 4 });
    moco.dispose();
    return loss;
  };
  const symmetric = await firstLoss(true, false);
  const forward = await firstLoss(false, false);
  const backward = await firstLoss(false, true);
  t.true(Number.isFinite(forward) && Number.isFinite(backward));
  t.not(forward, backward, 'the two view orders are different problems');
  t.true(Math.abs(symmetric - (forward + backward)) < 1e-5, `symmetric ${symmetric} vs ${forward} + ${backward}`);
});
