import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
// Module files, not the index: these tests need no TensorFlow.js.
import { DataError } from '../../../src/data/errors.js';
import { loadIdx, loadIdxDir } from '../../../src/node/data/idx-loader.js';

let root: string;
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-moco-idx-'));
});
test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An IDX file of unsigned bytes: magic 00 00 08 <rank>, big-endian dims, data. */
// Plain Uint8Arrays throughout: @types/node 20's Buffer does not type-check as one under TypeScript 5.9.
function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(Array.from(data), 4 + 4 * dims.length);
  return out;
}

function gzip(bytes: Uint8Array): Uint8Array {
  const gz = gzipSync(bytes);
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

// 3 images of 2x4: image i, pixel p = i*50 + p*3 (all distinct, all < 256).
const PIXELS = Array.from({ length: 3 * 8 }, (_, k) => Math.floor(k / 8) * 50 + (k % 8) * 3);
const LABELS = [7, 0, 9];

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(root, name);
  await writeFile(path, bytes);
  return path;
}

test('raw IDX images and labels load with exact pixels and labels', async (t) => {
  const images = await put('raw-images-idx3-ubyte', idx([3, 2, 4], PIXELS));
  const labels = await put('raw-labels-idx1-ubyte', idx([3], LABELS));
  const set = await loadIdx(images, labels);
  t.is(set.name, images);
  t.deepEqual([set.count, set.height, set.width, set.channels], [3, 2, 4, 1]);
  t.deepEqual(Array.from(set.images), PIXELS);
  t.deepEqual(Array.from(set.labels!), LABELS);
  t.true(set.labels instanceof Int32Array);
  t.is(set.classNames, undefined);
});

test('gzip is detected by magic bytes, whatever the name; class names can be given', async (t) => {
  const images = await put('gz-images-idx3-ubyte.gz', gzip(idx([3, 2, 4], PIXELS)));
  const labels = await put('gz-labels-no-suffix', gzip(idx([3], LABELS)));
  const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const set = await loadIdx(images, labels, { classNames: names });
  t.deepEqual(Array.from(set.images), PIXELS);
  t.deepEqual(Array.from(set.labels!), LABELS);
  t.deepEqual(set.classNames, names);
  // Without labels: no labels, and a 4-d (N,H,W,C) file gives channels.
  const rgb = await put('rgb-images', idx([2, 1, 2, 3], Array.from({ length: 12 }, (_, i) => i * 20)));
  const set4 = await loadIdx(rgb);
  t.deepEqual([set4.count, set4.height, set4.width, set4.channels], [2, 1, 2, 3]);
  t.is(set4.labels, undefined);
  t.deepEqual(Array.from(set4.images), Array.from({ length: 12 }, (_, i) => i * 20));
});

test('loadIdxDir finds the standard names, raw or .gz, train and t10k', async (t) => {
  const dir = join(root, 'standard');
  await mkdir(dir);
  await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzip(idx([3, 2, 4], PIXELS)));
  await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gzip(idx([3], LABELS)));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), idx([1, 2, 4], PIXELS.slice(8, 16)));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), idx([1], [4]));
  const { train, test: testSet } = await loadIdxDir(dir);
  t.is(train.name, join(dir, 'train-images-idx3-ubyte.gz'));
  t.deepEqual(Array.from(train.images), PIXELS);
  t.deepEqual(Array.from(train.labels!), LABELS);
  t.truthy(testSet);
  t.deepEqual(Array.from(testSet!.images), PIXELS.slice(8, 16));
  t.deepEqual(Array.from(testSet!.labels!), [4]);

  // Train only, unlabelled: test is absent, train has no labels.
  const only = join(root, 'train-only');
  await mkdir(only);
  await writeFile(join(only, 'train-images-idx3-ubyte'), idx([3, 2, 4], PIXELS));
  const loaded = await loadIdxDir(only);
  t.false('test' in loaded);
  t.is(loaded.train.labels, undefined);
});

test('loadIdxDir without training images names the folder and the expected names', async (t) => {
  const dir = join(root, 'no-train');
  await mkdir(dir);
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), idx([1, 2, 4], PIXELS.slice(0, 8)));
  const err = await t.throwsAsync(loadIdxDir(dir), { instanceOf: DataError });
  t.is(err!.path, dir);
  t.true(err!.message.includes(dir));
  t.regex(err!.message, /train-images-idx3-ubyte/);
});

test('missing path: the error names the file', async (t) => {
  const missing = join(root, 'nope-images-idx3-ubyte');
  const err = await t.throwsAsync(loadIdx(missing), { instanceOf: DataError });
  t.is(err!.path, missing);
  t.is(err!.message, `${missing}: no such file or directory`);
  const missingDir = join(root, 'no-such-dir');
  const err2 = await t.throwsAsync(loadIdxDir(missingDir), { instanceOf: DataError });
  t.true(err2!.message.startsWith(missingDir));
  // A missing labels file is named too, not the images.
  const images = await put('ok-images', idx([3, 2, 4], PIXELS));
  const err3 = await t.throwsAsync(loadIdx(images, join(root, 'no-labels')), { instanceOf: DataError });
  t.is(err3!.path, join(root, 'no-labels'));
});

test('truncated IDX: header says N images but fewer bytes follow', async (t) => {
  const path = await put('short-images', idx([3, 2, 4], PIXELS).subarray(0, 16 + 20));
  const err = await t.throwsAsync(loadIdx(path), { instanceOf: DataError });
  t.is(err!.path, path);
  t.true(err!.message.startsWith(path));
  t.regex(err!.message, /truncated.*3x2x4.*24 bytes.*only 20/);
  // Truncated inside the header, and a truncated gzip stream.
  const head = await put('short-header', idx([3, 2, 4], PIXELS).subarray(0, 10));
  t.regex((await t.throwsAsync(loadIdx(head)))!.message, /short-header: truncated IDX header/);
  const gz = gzip(idx([3, 2, 4], PIXELS));
  const badGz = await put('short.gz', gz.subarray(0, gz.length - 12));
  t.regex((await t.throwsAsync(loadIdx(badGz), { instanceOf: DataError }))!.message, /short\.gz: gzip data is corrupt or truncated/);
  // Extra bytes are refused too: the header does not describe the file.
  const long = await put('long-images', Uint8Array.from([...idx([3, 2, 4], PIXELS), 0, 0, 0, 0, 0]));
  t.regex((await t.throwsAsync(loadIdx(long)))!.message, /long-images: .*5 extra bytes/);
});

test('wrong magic number: not IDX, or labels where images are expected', async (t) => {
  const png = await put('image.png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
  const err = await t.throwsAsync(loadIdx(png), { instanceOf: DataError });
  t.is(err!.path, png);
  t.regex(err!.message, /image\.png: wrong magic number 0x89504e47: not an IDX file \(expected 0x00000803 or 0x00000804/);
  const labels = await put('swapped-labels', idx([3], LABELS));
  const images = await put('swapped-images', idx([3, 2, 4], PIXELS));
  const swapped = await t.throwsAsync(loadIdx(labels, images), { instanceOf: DataError });
  t.is(swapped!.path, labels);
  t.regex(swapped!.message, /swapped-labels: wrong magic number 0x00000801.*swapped/);
  const floats = idx([1], [0]);
  floats[2] = 0x0d;
  const f = await put('float-labels', floats);
  t.regex((await t.throwsAsync(loadIdx(images, f)))!.message, /float-labels: IDX element type float32/);
});

test('labels count != images count names the labels file and both counts', async (t) => {
  const images = await put('count-images', idx([3, 2, 4], PIXELS));
  const labels = await put('count-labels', idx([2], [1, 2]));
  const err = await t.throwsAsync(loadIdx(images, labels), { instanceOf: DataError });
  t.is(err!.path, labels);
  t.is(err!.message, `${labels}: has 2 labels but ${images} has 3 images`);
  // A label beyond the class names given is named as well.
  const err2 = await t.throwsAsync(loadIdx(images, await put('nine', idx([3], LABELS)), { classNames: ['a', 'b'] }));
  t.regex(err2!.message, /nine: label 7 at position 0 is outside the 2 class names/);
});
