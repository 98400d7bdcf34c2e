import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
// Module files, not the index: these tests need no TensorFlow.js.
import { DataError } from '../../../src/data/errors.js';
import { loadImageFolder } from '../../../src/node/data/folder-loader.js';

let root: string;
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-moco-folder-'));
});
test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

type Rgb = (x: number, y: number) => [number, number, number];

// Plain Uint8Arrays throughout: @types/node 20's Buffer does not type-check as one under TypeScript 5.9.
const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function rgba(w: number, h: number, color: Rgb): Uint8Array {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = color(x, y);
      data.set([r, g, b, 255], (y * w + x) * 4);
    }
  return data;
}

/** A PNG; `grey` writes colour type 0 (1 channel in the file) instead of RGBA. */
function png(w: number, h: number, color: Rgb, grey = false): Uint8Array {
  const image = new PNG({ width: w, height: h });
  image.data.set(rgba(w, h, color));
  return u8(PNG.sync.write(image, grey ? { colorType: 0 } : {}));
}

function jpeg(w: number, h: number, color: Rgb): Uint8Array {
  return u8(encodeJpeg({ width: w, height: h, data: rgba(w, h, color) }, 100).data);
}

const greyRamp: Rgb = (x, y) => {
  const v = (y * 4 + x) * 15;
  return [v, v, v];
};
const flat =
  (v: number): Rgb =>
  () => [v, v, v];
const colour: Rgb = (x, y) => [x * 60, y * 50 + 10, 200 - x * 20];

async function files(dir: string, entries: Record<string, Uint8Array | string>): Promise<string> {
  const base = join(root, dir);
  for (const [name, bytes] of Object.entries(entries)) {
    const path = join(base, name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, bytes);
  }
  return base;
}

function collector() {
  const warnings: { message: string; path: string }[] = [];
  return { warnings, onWarning: (message: string, path: string) => warnings.push({ message, path }) };
}

test('class sub-folders give sorted class names and labels; PNG exact, JPEG close; corrupt file skipped with a warning', async (t) => {
  const dir = await files('classes', {
    'sneaker/b.jpg': jpeg(4, 3, flat(200)),
    'sneaker/a.png': png(4, 3, greyRamp, true),
    'sneaker/nested/c.png': png(4, 3, flat(7)),
    'bag/z.PNG': png(4, 3, flat(99)),
    'bag/broken.png': 'definitely not a png',
    'bag/notes.txt': 'hello',
    'bag/.DS_Store': 'junk',
  });
  const { warnings, onWarning } = collector();
  const set = await loadImageFolder(dir, { onWarning });
  t.is(set.name, dir);
  t.deepEqual(set.classNames, ['bag', 'sneaker']);
  t.deepEqual([set.count, set.height, set.width, set.channels], [4, 3, 4, 1], 'all grey: one channel');
  // Order: class by class, sorted paths within: bag/z.PNG, sneaker/a.png, sneaker/b.jpg, sneaker/nested/c.png.
  t.deepEqual(Array.from(set.labels!), [0, 1, 1, 1]);
  const img = (i: number) => Array.from(set.images.subarray(i * 12, (i + 1) * 12));
  t.deepEqual(img(0), Array(12).fill(99));
  t.deepEqual(img(1), Array.from({ length: 12 }, (_, p) => p * 15));
  t.true(img(2).every((v) => Math.abs(v - 200) <= 2), `jpeg pixels ${img(2)}`);
  t.deepEqual(img(3), Array(12).fill(7));

  const broken = warnings.find((w) => w.path === join(dir, 'bag', 'broken.png'));
  t.truthy(broken, JSON.stringify(warnings));
  t.regex(broken!.message, /broken\.png: skipped/);
  t.truthy(warnings.find((w) => w.message.includes('notes.txt')), 'non-image files are reported');
  t.falsy(warnings.find((w) => w.message.includes('.DS_Store')), 'hidden files are silently ignored');
});

test('colour images: 3 channels by default, BT.601 luma with channels 1, grey repeated with channels 3', async (t) => {
  const dir = await files('colour', { 'a.png': png(3, 2, colour), 'b.png': png(3, 2, greyRamp) });
  const rgb = await loadImageFolder(dir);
  t.deepEqual([rgb.count, rgb.height, rgb.width, rgb.channels], [2, 2, 3, 3]);
  t.is(rgb.labels, undefined, 'a flat folder has no labels');
  t.is(rgb.classNames, undefined);
  const expectedA = Array.from({ length: 6 }, (_, p) => colour(p % 3, Math.floor(p / 3))).flat();
  t.deepEqual(Array.from(rgb.images.subarray(0, 18)), expectedA);
  const expectedB = Array.from({ length: 6 }, (_, p) => greyRamp(p % 3, Math.floor(p / 3))).flat();
  t.deepEqual(Array.from(rgb.images.subarray(18)), expectedB);

  const grey = await loadImageFolder(dir, { channels: 1 });
  t.is(grey.channels, 1);
  const luma = Array.from({ length: 6 }, (_, p) => {
    const [r, g, b] = colour(p % 3, Math.floor(p / 3));
    return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  });
  t.deepEqual(Array.from(grey.images.subarray(0, 6)), luma);
  t.deepEqual(Array.from(grey.images.subarray(6)), Array.from({ length: 6 }, (_, p) => greyRamp(p % 3, Math.floor(p / 3))[0]));

  const greyDir = await files('grey-as-rgb', { 'a.png': png(2, 1, flat(42), true) });
  const asRgb = await loadImageFolder(greyDir, { channels: 3 });
  t.deepEqual(Array.from(asRgb.images), Array(6).fill(42));
});

test('class names sort by code point, independent of locale', async (t) => {
  const dir = await files('sorting', { 'b/x.png': png(1, 1, flat(1)), 'a/x.png': png(1, 1, flat(2)), 'B/x.png': png(1, 1, flat(3)) });
  const set = await loadImageFolder(dir, { onWarning: () => undefined });
  t.deepEqual(set.classNames, ['B', 'a', 'b']);
  t.deepEqual(Array.from(set.images), [3, 2, 1]);
});

test('a truncated JPEG is skipped, not decoded into grey blocks', async (t) => {
  const good = jpeg(16, 16, colour);
  const dir = await files('truncated-jpeg', { 'good.jpg': good, 'cut.jpg': good.subarray(0, Math.floor(good.length / 2)) });
  const { warnings, onWarning } = collector();
  const set = await loadImageFolder(dir, { onWarning });
  t.is(set.count, 1);
  t.deepEqual(
    warnings.map((w) => w.path),
    [join(dir, 'cut.jpg')],
  );
});

test('mixed image sizes: the error names a file of each size', async (t) => {
  const dir = await files('mixed', { 'a.png': png(4, 4, flat(1)), 'b.png': png(4, 4, flat(2)), 'c.png': png(5, 4, flat(3)) });
  const err = await t.throwsAsync(loadImageFolder(dir), { instanceOf: DataError });
  t.is(err!.path, join(dir, 'c.png'));
  t.true(err!.message.includes(join(dir, 'c.png')) && err!.message.includes(join(dir, 'a.png')), err!.message);
  t.regex(err!.message, /5x4 .* 4x4/);
});

test('empty folder, folder without images, missing folder: the error names the folder', async (t) => {
  const empty = join(root, 'empty');
  await mkdir(empty);
  const err = await t.throwsAsync(loadImageFolder(empty), { instanceOf: DataError });
  t.is(err!.path, empty);
  t.is(err!.message, `${empty}: empty folder: no .png, .jpg or .jpeg files found`);

  const textOnly = await files('text-only', { 'readme.txt': 'x' });
  t.is((await t.throwsAsync(loadImageFolder(textOnly, { onWarning: () => undefined }), { instanceOf: DataError }))!.path, textOnly);

  const emptyClasses = join(root, 'empty-classes');
  await mkdir(join(emptyClasses, 'a'), { recursive: true });
  t.regex((await t.throwsAsync(loadImageFolder(emptyClasses, { onWarning: () => undefined })))!.message, /empty-classes: empty folder/);

  const missing = join(root, 'missing');
  const err2 = await t.throwsAsync(loadImageFolder(missing), { instanceOf: DataError });
  t.is(err2!.message, `${missing}: no such file or directory`);
  const file = await files('a-file', { 'x.png': png(1, 1, flat(0)) });
  const err3 = await t.throwsAsync(loadImageFolder(join(file, 'x.png')), { instanceOf: DataError });
  t.regex(err3!.message, /x\.png: is not a directory/);
});

test('every image corrupt: the load fails naming the folder and the first bad file, after a warning each', async (t) => {
  const dir = await files('all-corrupt', { 'a.png': Uint8Array.of(0x89, 0x50, 0x4e, 0x47), 'b.jpg': Uint8Array.of(0xff, 0xd8, 0xff, 0, 1) });
  const { warnings, onWarning } = collector();
  const err = await t.throwsAsync(loadImageFolder(dir, { onWarning }), { instanceOf: DataError });
  t.is(err!.path, dir);
  t.regex(err!.message, /all-corrupt: none of the 2 image file\(s\) could be decoded \(first: .*a\.png/);
  t.deepEqual(
    warnings.map((w) => w.path),
    [join(dir, 'a.png'), join(dir, 'b.jpg')],
  );
});

test.serial('warnings go to console.warn by default', async (t) => {
  const dir = await files('default-warn', { 'a.png': png(1, 1, flat(0)), 'bad.png': 'x' });
  const original = console.warn;
  const seen: string[] = [];
  console.warn = (message: string) => seen.push(message);
  try {
    await loadImageFolder(dir);
  } finally {
    console.warn = original;
  }
  t.is(seen.length, 1);
  t.regex(seen[0], /bad\.png: skipped/);
});
