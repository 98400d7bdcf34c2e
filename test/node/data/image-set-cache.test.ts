import test from 'ava';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImageSet } from '../../../src/data/create-image-set.js';
import { readImageSetCache, writeImageSetCache } from '../../../src/node/data/image-set-cache.js';

let root: string;
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-moco-cache-'));
});
test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

const labelled = createImageSet({
  name: 'a/train',
  images: Uint8Array.from({ length: 3 * 5 }, (_, i) => (i * 37) % 256),
  count: 3,
  height: 5,
  width: 1,
  channels: 1,
  labels: Int32Array.of(2, 0, 1),
  classNames: ['x', 'y', 'z'],
});
const unlabelled = createImageSet({ name: 'b', images: Uint8Array.of(9, 8, 7, 6, 5, 4), count: 1, height: 1, width: 2, channels: 3 });

test('round trip: pixels, labels, class names, names and shapes come back as written', async (t) => {
  const path = join(root, 'sub', 'dir', 'round.bin');
  await writeImageSetCache(path, 'key-1', [labelled, unlabelled]);
  t.deepEqual(await readdir(join(root, 'sub', 'dir')), ['round.bin'], 'no temporary file left behind');
  const back = await readImageSetCache(path, 'key-1');
  t.truthy(back);
  const [a, b] = back!;
  t.is(a.name, 'a/train');
  t.deepEqual([a.count, a.height, a.width, a.channels], [3, 5, 1, 1]);
  t.deepEqual(Array.from(a.images), Array.from(labelled.images));
  t.deepEqual(Array.from(a.labels!), [2, 0, 1]);
  t.deepEqual(a.classNames, ['x', 'y', 'z']);
  t.deepEqual([b.name, b.count, b.height, b.width, b.channels], ['b', 1, 1, 2, 3]);
  t.deepEqual(Array.from(b.images), [9, 8, 7, 6, 5, 4]);
  t.is(b.labels, undefined);
  t.is(b.classNames, undefined);
});

test('another key, a missing file, a truncated or garbled file: treated as absent, never trusted', async (t) => {
  const path = join(root, 'checked.bin');
  await writeImageSetCache(path, 'key-1', [labelled]);
  t.is(await readImageSetCache(path, 'key-2'), undefined);
  t.is(await readImageSetCache(join(root, 'absent.bin'), 'key-1'), undefined);

  const file = await readFile(path);
  // A plain Uint8Array copy: @types/node 20's Buffer does not type-check as one under TypeScript 5.9.
  const bytes = new Uint8Array(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
  const cut = join(root, 'cut.bin');
  await writeFile(cut, bytes);
  await truncate(cut, bytes.length - 3);
  t.is(await readImageSetCache(cut, 'key-1'), undefined);

  const garbled = bytes.slice();
  garbled.set(new TextEncoder().encode('{"nonsense'), 16);
  const bad = join(root, 'garbled.bin');
  await writeFile(bad, garbled);
  t.is(await readImageSetCache(bad, 'key-1'), undefined);

  const notCache = join(root, 'not-a-cache.bin');
  await writeFile(notCache, 'hello');
  t.is(await readImageSetCache(notCache, 'key-1'), undefined);

  // Rewriting over an existing cache replaces it.
  await writeImageSetCache(path, 'key-2', [unlabelled]);
  t.is((await readImageSetCache(path, 'key-2'))![0].name, 'b');
});
