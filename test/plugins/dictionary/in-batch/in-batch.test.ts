import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { ConfigError, Random, createMoco, type DictionaryStrategy, type EncoderUpdateStrategy, type MocoEvent } from '../../../../src/index.js';
import { InBatchDictionary, SharedEncoderUpdate, builtinPlugins, dropDiagonal, inBatchStrategy, sharedEncoderStrategy } from '../../../../plugins/index.js';

const noWarnings = { warn: () => {} };

await useCpu();

// Three queries and their three keys (d = 2), unit vectors.
const q = [[1, 0], [0, 1], [0.6, 0.8]];
const k = [[0, 1], [1, 0], [0.8, 0.6]];

test('dropDiagonal keeps row i without entry (i, i), in order', (t) => {
  const m = tf.tensor2d([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
  t.deepEqual(dropDiagonal(m).arraySync(), [[1, 2], [3, 5], [6, 7]]);
  t.deepEqual(dropDiagonal(tf.tensor2d([[9]])).shape, [1, 0], 'a batch of one has no negatives');
});

test('in-batch negatives of a 3×2 example by hand: [N, N−1], the keys j ≠ i', (t) => {
  const sims = new InBatchDictionary(noWarnings).negativeSimilarities(tf.tensor2d(q), tf.tensor2d(k));
  // q·kᵀ = [[0, 1, 0.8], [1, 0, 0.6], [0.8, 0.6, 0.96]]; the diagonal (the positives) dropped.
  t.deepEqual(sims.shape, [3, 2]);
  t.true(maxAbsDiff(sims, [1, 0.8, 1, 0.6, 0.8, 0.6]) < 1e-6, JSON.stringify(sims.arraySync()));
});

test('the gradient of the in-batch similarities reaches the keys (and the queries)', (t) => {
  const w = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const dict = new InBatchDictionary(noWarnings);
  const f = (qs: tf.Tensor, ks: tf.Tensor) => tf.sum(tf.mul(w, dict.negativeSimilarities(qs as tf.Tensor2D, ks as tf.Tensor2D)));
  const [dq, dk] = tf.grads(f)([tf.tensor2d(q), tf.tensor2d(k)]);
  // L = Σ w ⊙ negatives. k0 is a negative of q1 (weight 3) and q2 (5): dL/dk0 = 3·q1 + 5·q2 = [3, 7].
  // k1: of q0 (1) and q2 (6) → [4.6, 4.8]. k2: of q0 (2) and q1 (4) → [2, 4]. No key gets its own query's weight.
  t.true(maxAbsDiff(dk, [3, 7, 4.6, 4.8, 2, 4]) < 1e-5, JSON.stringify(dk.arraySync()));
  // q0's negatives are k1 (1) and k2 (2): [1,0] + 2·[0.8,0.6] = [2.6, 1.2].
  t.true(maxAbsDiff(tf.slice(dq, [0, 0], [1, 2]), [2.6, 1.2]) < 1e-5);
});

test('in-batch stores nothing: K = batch − 1, update is a no-op, a one-image last batch is warned about', (t) => {
  const warnings: string[] = [];
  const dict = new InBatchDictionary({ warn: (m) => warnings.push(m) });
  dict.setup({ dim: 2, batchSize: 4, datasetSize: 9 });
  t.deepEqual(dict.stats(), { size: 3, filled: 3 });
  t.regex(warnings[0], /9 images in batches of 4 leave a last batch of one image, which has no in-batch negatives/);
  // Nothing to take after a step and nothing to checkpoint; the negatives come from the batch.
  t.is((dict as DictionaryStrategy).update, undefined);
  t.is((dict as DictionaryStrategy).state, undefined);
  t.deepEqual(inBatchStrategy.capabilities, { negativesFromBatch: true });
});

test('shared: keys from the query encoder, nothing to update, no momentum', (t) => {
  const rule: EncoderUpdateStrategy = new SharedEncoderUpdate();
  t.deepEqual(sharedEncoderStrategy.capabilities, { keySource: 'query-encoder' });
  t.is(rule.momentumAt, undefined);
  t.is(rule.apply, undefined, 'no key encoder to move');
});

test.serial('the end-to-end preset trains: no key encoder (keys from the query encoder), finite loss, flat numTensors', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'e2e'), plugins: builtinPlugins, config: { preset: 'end-to-end', normalization: { groups: 2 }, head: { dim: 8 }, augmentation: 'crop-flip' } });
  t.like(moco.config, { dictionary: { id: 'in-batch' }, update: { id: 'shared' }, normalization: { id: 'split-bn', groups: 2 }, loss: { id: 'infonce', temperature: 0.07 } });
  const steps: Extract<MocoEvent, { type: 'step' }>[] = [];
  const counts: number[] = [];
  moco.on('step').subscribe((e) => {
    steps.push(e);
    counts.push(tf.memory().numTensors);
  });
  await moco.fit(randomImages(8), { epochs: 3, batchSize: 4 });
  t.is(moco.keyEncoder, undefined);
  t.is(steps.length, 6);
  for (const s of steps) {
    t.true(Number.isFinite(s.loss) && s.loss > 0);
    t.is(s.keyEncoderMomentum, undefined);
    t.is(s.dictionarySize, 3);
    t.is(s.dictionaryFill, 1);
  }
  t.is(counts[5], counts[1], `numTensors at step 2: ${counts[1]}, at step 6: ${counts[5]}`);
  moco.dispose();
});

test.serial('in-batch with a momentum key encoder (MoCo v3 style) is allowed and trains', async (t) => {
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'v3'),
    plugins: builtinPlugins,
    config: { dictionary: 'in-batch', update: { id: 'momentum', keyEncoderMomentum: 0.99 }, normalization: { groups: 2 }, loss: { symmetric: true }, head: { dim: 8 }, augmentation: 'crop-flip' },
  });
  const losses: number[] = [];
  moco.on('step').subscribe((e) => losses.push(e.loss));
  await moco.fit(randomImages(8), { epochs: 1, batchSize: 4 });
  t.truthy(moco.keyEncoder);
  t.is(losses.length, 2);
  t.true(losses.every(Number.isFinite));
  moco.dispose();
});

test('shared refuses Shuffle BN with the reason; shared with a queue loads', (t) => {
  const err = t.throws(() => createMoco({ backbone: tinyBackbone(8, 1, 4, 'shr'), plugins: builtinPlugins, config: { dictionary: 'in-batch', update: 'shared' } }), { instanceOf: ConfigError });
  t.regex(err!.message, /update: 'shared' cannot be used here: Shuffle BN shuffles the key encoder's batch, and 'shared' has no key encoder.*choose normalization 'split-bn'/);
  const queue = createMoco({ backbone: tinyBackbone(8, 1, 4, 'shq'), plugins: builtinPlugins, config: { update: 'shared', normalization: { id: 'split-bn', groups: 2 } } });
  t.like(queue.config, { dictionary: { id: 'queue' }, update: { id: 'shared' } });
  queue.dispose();
});
