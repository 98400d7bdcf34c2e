import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import { useCpu } from '../helpers/tf.js';
import {
  createImageSet,
  imageSetBatch,
  imageSetBatchDataset,
  imageSetGather,
  imageSetToDataset,
  stratifiedSubset,
  subsetImageSet,
  type ImageElement,
  type ImageSet,
} from '../../src/data/index.js';

test.before(async () => {
  await useCpu();
});

/** count images of h x w x c; pixel p of image i is (i*17 + p*5) % 256, label i % classes. */
function makeSet(count: number, h = 2, w = 3, c = 1, classes = 3): ImageSet {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) images[i * size + p] = (i * 17 + p * 5) % 256;
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  const classNames = Array.from({ length: classes }, (_, k) => `class-${k}`);
  return createImageSet({ name: 'synthetic', images, count, height: h, width: w, channels: c, labels, classNames });
}

/** The expected float pixels of image i, as v/255 rounded to float32. */
function expectedPixels(set: ImageSet, i: number): number[] {
  const size = set.height * set.width * set.channels;
  return Array.from(set.images.subarray(i * size, (i + 1) * size), (v) => Math.fround(v / 255));
}

/** Runs one full pass, recording the index order and checking each element's pixels; disposes everything. */
async function pass(ds: tfd.Dataset<ImageElement>, set: ImageSet): Promise<number[]> {
  const order: number[] = [];
  const it = await ds.iterator();
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    const { xs, index } = r.value;
    const i = index.dataSync()[0];
    if (index.dtype !== 'int32' || index.rank !== 0) throw new Error(`index is ${index.dtype} rank ${index.rank}`);
    if (xs.dtype !== 'float32' || xs.shape.join() !== [set.height, set.width, set.channels].join()) {
      throw new Error(`xs is ${xs.dtype} ${xs.shape}`);
    }
    const got = Array.from(xs.dataSync());
    const want = expectedPixels(set, i);
    if (got.some((v, p) => v !== want[p])) throw new Error(`pixels of element ${i} differ: ${got} vs ${want}`);
    order.push(i);
    tf.dispose([xs, index]);
  }
  return order;
}

test('createImageSet refuses inconsistent fields', (t) => {
  const base = { name: 'x', count: 2, height: 2, width: 2, channels: 1 };
  t.throws(() => createImageSet({ ...base, images: new Uint8Array(7) }), { instanceOf: RangeError, message: /7 pixel bytes/ });
  t.throws(() => createImageSet({ ...base, images: new Uint8Array(8), labels: new Int32Array(3) }), { message: /3 labels for 2 images/ });
  t.throws(() => createImageSet({ ...base, images: new Uint8Array(8), labels: Int32Array.of(0, 2), classNames: ['a', 'b'] }), {
    message: /label 2/,
  });
});

test('imageSetBatch: exact [0,1] values, NHWC shape, short last batch, range errors', (t) => {
  const set = makeSet(5, 2, 3, 2);
  const before = tf.memory().numTensors;
  const b = imageSetBatch(set, 1, 3);
  t.deepEqual(b.shape, [3, 2, 3, 2]);
  t.is(b.dtype, 'float32');
  t.deepEqual(Array.from(b.dataSync()), [1, 2, 3].flatMap((i) => expectedPixels(set, i)));
  const last = imageSetBatch(set, 3, 4);
  t.deepEqual(last.shape, [2, 2, 3, 2], 'clipped to the 2 images left');
  t.deepEqual(Array.from(last.dataSync()), [3, 4].flatMap((i) => expectedPixels(set, i)));
  const g = imageSetGather(set, [4, 0, 4]);
  t.deepEqual(Array.from(g.dataSync()), [4, 0, 4].flatMap((i) => expectedPixels(set, i)));
  tf.dispose([b, last, g]);
  t.is(tf.memory().numTensors, before);
  t.throws(() => imageSetBatch(set, 5, 1), { instanceOf: RangeError });
  t.throws(() => imageSetBatch(set, -1, 1), { instanceOf: RangeError });
  t.throws(() => imageSetBatch(set, 0, 0), { instanceOf: RangeError });
  t.throws(() => imageSetGather(set, [5]), { instanceOf: RangeError });
});

test('imageSetToDataset: in order, right pixels and index, known size', async (t) => {
  const set = makeSet(7, 2, 2, 3);
  const ds = imageSetToDataset(set);
  t.is(ds.size, 7);
  t.deepEqual(await pass(ds, set), [0, 1, 2, 3, 4, 5, 6]);
  t.deepEqual(await pass(ds, set), [0, 1, 2, 3, 4, 5, 6], 'a second pass is the same');
});

test('imageSetToDataset: a seeded shuffle repeats exactly, reshuffles per pass, differs by seed', async (t) => {
  const set = makeSet(40);
  const a = imageSetToDataset(set, { shuffle: true, seed: 42 });
  const b = imageSetToDataset(set, { shuffle: true, seed: 42 });
  const a1 = await pass(a, set);
  const a2 = await pass(a, set);
  t.deepEqual([...a1].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i), 'a permutation');
  t.notDeepEqual(a1, Array.from({ length: 40 }, (_, i) => i), 'actually shuffled');
  t.notDeepEqual(a1, a2, 'a new order on the second pass');
  t.deepEqual(await pass(b, set), a1, 'same seed, same first pass');
  t.deepEqual(await pass(b, set), a2, 'same seed, same second pass');
  t.notDeepEqual(await pass(imageSetToDataset(set, { shuffle: true, seed: 43 }), set), a1, 'another seed, another order');
  const fixed = imageSetToDataset(set, { shuffle: true, seed: 42, reshuffleEachIteration: false });
  t.deepEqual(await pass(fixed, set), a1);
  t.deepEqual(await pass(fixed, set), a1, 'reshuffleEachIteration false repeats the first order');
});

test.serial('datasets leak no tensors: element-wise, through batch(), and ready-made batches', async (t) => {
  const set = makeSet(10, 3, 3, 1);
  const before = tf.memory().numTensors;
  await pass(imageSetToDataset(set, { shuffle: true, seed: 1 }), set);
  t.is(tf.memory().numTensors, before);

  await imageSetToDataset(set).batch(4).forEachAsync((e) => tf.dispose(e));
  t.is(tf.memory().numTensors, before);

  const seen: number[] = [];
  const batches = imageSetBatchDataset(set, 4, { shuffle: true, seed: 7 });
  t.is(batches.size, 3);
  await batches.forEachAsync(({ xs, index }) => {
    const idx = Array.from(index.dataSync());
    seen.push(...idx);
    t.is(index.dtype, 'int32');
    t.deepEqual(xs.shape, [idx.length, 3, 3, 1]);
    t.deepEqual(Array.from(xs.dataSync()), idx.flatMap((i) => expectedPixels(set, i)));
    tf.dispose([xs, index]);
  });
  t.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  t.is(tf.memory().numTensors, before);

  // Batches follow the same order as the element dataset with the same seed.
  const elementOrder = await pass(imageSetToDataset(set, { shuffle: true, seed: 7 }), set);
  t.deepEqual(seen, elementOrder);

  const dropped = imageSetBatchDataset(set, 4, { dropRemainder: true });
  t.is(dropped.size, 2);
  let n = 0;
  await dropped.forEachAsync((e) => {
    n += e.xs.shape[0];
    tf.dispose(e);
  });
  t.is(n, 8);
  t.is(tf.memory().numTensors, before);
});

test('subsetImageSet copies images and labels in the order given', (t) => {
  const set = makeSet(6, 2, 2, 1);
  const sub = subsetImageSet(set, [5, 0, 5], 'picked');
  t.is(sub.name, 'picked');
  t.is(sub.count, 3);
  t.deepEqual(Array.from(sub.labels!), [2, 0, 2]);
  t.deepEqual(sub.classNames, set.classNames);
  t.deepEqual(Array.from(sub.images), [...set.images.subarray(20, 24), ...set.images.subarray(0, 4), ...set.images.subarray(20, 24)]);
  sub.images[0] = 255 - sub.images[0];
  t.not(sub.images[0], set.images[20], 'a copy, not a view');
  t.throws(() => subsetImageSet(set, [6]), { instanceOf: RangeError });
  t.regex(subsetImageSet(set, [1]).name, /synthetic/);
});

test('stratifiedSubset: perClass per class, seeded, in original order, needs labels', (t) => {
  const set = makeSet(30, 1, 1, 1, 3); // 10 per class
  const a = stratifiedSubset(set, 4, 5);
  t.is(a.count, 12);
  const perClass = [0, 0, 0];
  for (const l of a.labels!) perClass[l]++;
  t.deepEqual(perClass, [4, 4, 4]);
  // images[i] = i*17 % 256 identifies the source index: check the order is increasing.
  const sources = Array.from(a.images, (v) => Array.from({ length: 30 }, (_, i) => i).find((i) => (i * 17) % 256 === v)!);
  t.deepEqual(sources, [...sources].sort((x, y) => x - y));
  t.deepEqual(Array.from(stratifiedSubset(set, 4, 5).images), Array.from(a.images), 'same seed, same subset');
  t.notDeepEqual(Array.from(stratifiedSubset(set, 4, 6).images), Array.from(a.images), 'another seed, another subset');
  t.is(stratifiedSubset(set, 50).count, 30, 'a class with fewer images gives all it has');
  const unlabelled = createImageSet({ name: 'u', images: new Uint8Array(2), count: 2, height: 1, width: 1, channels: 1 });
  t.throws(() => stratifiedSubset(unlabelled, 1), { message: /needs labels/ });
});
