import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../../../helpers/tf.js';
import { Random, type SetupContext} from '../../../../src/index.js';
import { QueueDictionary } from '../../../../plugins/dictionary/queue/index.js';

await useCpu();

function setupQueue(size: number, batchSize: number, datasetSize?: number, warnings: string[] = []): QueueDictionary {
  const q = new QueueDictionary({ size }, new Random(3), { warn: (m) => warnings.push(m) });
  const ctx: SetupContext = { dim: 2, batchSize, datasetSize };
  q.setup(ctx);
  return q;
}
/** Keys whose first coordinate is an id we can read back; the queue stores them as given. */
const keys = (...ids: number[]) => tf.tensor2d(ids.map((i) => [i, -i]));
const ids = (q: QueueDictionary) => Array.from((q.keys.arraySync() as number[][]).map((r) => r[0]));

test('the queue starts as K random unit vectors, none of them real', (t) => {
  const q = setupQueue(5, 2);
  const norms = tf.norm(q.keys, 2, 1).dataSync();
  for (const n of norms) t.true(Math.abs(n - 1) < 1e-5);
  t.deepEqual(q.stats(), { size: 5, filled: 0 });
  t.is(q.writePointer, 0);
  q.dispose();
});

test('enqueue fills in order, wraps around overwriting the oldest, and takes a short batch', (t) => {
  const q = setupQueue(5, 2);
  const init = ids(q);
  q.update({ keys: keys(1, 2), queries: keys(1, 2) });
  t.deepEqual(ids(q), [1, 2, init[2], init[3], init[4]]);
  t.is(q.writePointer, 2);
  q.update({ keys: keys(3, 4), queries: keys(3, 4) });
  t.deepEqual(ids(q), [1, 2, 3, 4, init[4]]);
  t.is(q.writePointer, 4);
  // One slot is left at the tail: 5 goes to row 4, then 6 and 7 wrap round and overwrite rows 0 and 1.
  q.update({ keys: keys(5, 6, 7), queries: keys(5, 6, 7) });
  t.deepEqual(ids(q), [6, 7, 3, 4, 5]);
  t.is(q.writePointer, 2);
  t.deepEqual(q.stats(), { size: 5, filled: 5 });
  // A short last batch of one key.
  q.update({ keys: keys(8), queries: keys(8) });
  t.deepEqual(ids(q), [6, 7, 8, 4, 5]);
  t.is(q.writePointer, 3);
  // A batch exactly K long replaces everything, oldest-first order preserved from the pointer.
  q.update({ keys: keys(9, 10, 11, 12, 13), queries: keys(9, 10, 11, 12, 13) });
  t.deepEqual(ids(q), [11, 12, 13, 9, 10]);
  t.is(q.writePointer, 3);
  q.dispose();
});

test('negatives are q · queueᵀ over all K slots', (t) => {
  const q = setupQueue(3, 1);
  q.update({ keys: tf.tensor2d([[1, 0]]), queries: tf.tensor2d([[1, 0]]) });
  const sims = q.negativeSimilarities(tf.tensor2d([[0.5, 0.25]]));
  t.deepEqual(sims.shape, [1, 3]);
  const expected = tf.matMul(tf.tensor2d([[0.5, 0.25]]), q.keys, false, true);
  t.deepEqual(Array.from(sims.dataSync()), Array.from(expected.dataSync()));
  t.is(sims.dataSync()[0], 0.5);
  q.dispose();
});

test('K smaller than a batch is refused; K larger than the data set warns with the reason', (t) => {
  t.throws(() => setupQueue(4, 8), { message: /dictionary.size: the queue \(4\) must hold at least one batch \(8\)/ });
  const warnings: string[] = [];
  setupQueue(100, 8, 50, warnings).dispose();
  t.is(warnings.length, 1);
  t.regex(warnings[0], /exceeds the 50 images.*false negatives/);
});

test('state round-trips the keys, pointer and fill', (t) => {
  const a = setupQueue(4, 2);
  a.update({ keys: keys(1, 2, 3), queries: keys(1, 2, 3) });
  const b = setupQueue(4, 2);
  b.loadState(a.state());
  t.deepEqual(ids(b), ids(a));
  t.is(b.writePointer, 3);
  t.deepEqual(b.stats(), { size: 4, filled: 3 });
  a.dispose();
  b.dispose();
});

test('updates leak no tensors', (t) => {
  const q = setupQueue(7, 3);
  const k = keys(1, 2, 3);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) q.update({ keys: k, queries: k });
  t.is(tf.memory().numTensors, before);
  q.dispose();
});

test('the gradient of the negatives reaches the queries only, and equals autodiff of q · queueᵀ', (t) => {
  const dict = setupQueue(6, 2);
  const q = tf.tensor2d([[0.2, -0.4], [0.5, 0.3]]);
  const w = tf.tensor2d([[1, -2, 0.5, 3, 0, 1], [-1, 0.5, 2, 0, 1, -3]]);
  const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(dict.negativeSimilarities(x as tf.Tensor2D), w)))(q);
  const reference = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, dict.keys, false, true), w)))(q);
  t.true(maxAbsDiff(ours, reference) < 1e-6);
  t.true(maxAbsDiff(ours, tf.zerosLike(ours)) > 0.1);
});
