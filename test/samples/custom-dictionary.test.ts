import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { Random } from '../../src/index.js';
import { InfoNceLoss } from '../../plugins/index.js';
import { OwnImageQueue, SKIPPED } from '../../samples/custom-dictionary/index.js';
import { run } from '../../samples/custom-dictionary/run.js';

await useCpu();
const ctx = { epoch: 0, step: 0, progress: 0, random: new Random(0) };

test('own-image-queue skips the stored keys of the query\'s own image, and only those', (t) => {
  const queue = new OwnImageQueue({ size: 4 }, new Random(1));
  queue.setup({ dim: 2, batchSize: 2 });
  queue.update({ keys: tf.tensor2d([[1, 0], [0, 1]]), queries: tf.tensor2d([[1, 0], [0, 1]]), indices: tf.tensor1d([5, 7], 'int32') });
  t.deepEqual(Array.from(queue.storedOwners.dataSync()), [5, 7, -1, -1]);
  const q = tf.tensor2d([[1, 0], [0.6, 0.8]]);
  const sims = queue.negativeSimilarities(q, q, ctx, tf.tensor1d([7, 9], 'int32')).arraySync();
  // Query 0 shows image 7: slot 1 (image 7's key) is skipped; slot 0 is q·[1,0] = 1.
  t.is(sims[0][0], 1);
  t.is(sims[0][1], SKIPPED);
  // Query 1 shows image 9, which has no stored key: nothing skipped; q·[0,1] = 0.8.
  t.true(Math.abs(sims[1][1] - 0.8) < 1e-6);
  t.false(sims[1].includes(SKIPPED));
  // A skipped key adds exactly nothing to InfoNCE: same loss as with that column removed.
  const loss = new InfoNceLoss(0.2, false);
  const withSkip = loss.compute(tf.tensor2d([[0.5]]), tf.tensor2d([sims[0]])).loss;
  const without = loss.compute(tf.tensor2d([[0.5]]), tf.tensor2d([[sims[0][0], sims[0][2], sims[0][3]]])).loss;
  t.true(maxAbsDiff(withSkip, without) < 1e-6);
  queue.dispose();
});

test.serial('the sample loads its plugin by config and trains 2 steps', async (t) => {
  const lines: string[] = [];
  const counts: number[] = [];
  await run({ epochs: 1, stepsPerEpoch: 2, log: (l) => (lines.push(l), l.startsWith('step ') && counts.push(tf.memory().numTensors)) });
  t.regex(lines[0], /run started: dictionary \{"id":"own-image-queue","size":16\}/);
  const steps = lines.filter((l) => l.startsWith('step '));
  t.is(steps.length, 2);
  for (const s of steps) t.true(Number.isFinite(Number(/loss (\S+),/.exec(s)![1])), s);
  t.regex(lines.at(-1)!, /^images of the stored keys: /);
  t.is(counts[1], counts[0], 'no tensor piles up from one step to the next');
});
