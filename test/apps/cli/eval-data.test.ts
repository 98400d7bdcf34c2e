import test from 'ava';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { buildEncoder } from '../../../apps/cli/encoder-spec.js';
import { saveModel } from '../../../src/checkpoint/model-files.js';
import { cli, writeIdxFolder } from './helpers.js';

let root = '';
let encoderDir = '';
let idxDir = '';
let folderDir = '';
test.after.always(() => rm(root, { recursive: true, force: true }));

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-moco-eval-data-'));
  // A saved 8×8×1 encoder (untrained: the table's shape and the baselines are what is tested here).
  encoderDir = join(root, 'encoder');
  const encoder = buildEncoder({ name: 'tiny', width: 4, seed: 1 }, [8, 8, 1]);
  await saveModel(encoder, encoderDir);
  encoder.dispose();
  // An IDX set (train + t10k) and a folder set (one sub-folder per class, no test set: 20 % is held out) of the
  // same kind of images: a bright bar whose row is the class, on noise. Raw pixels separate the classes.
  idxDir = join(root, 'idx');
  await writeIdxFolder(idxDir, 48, 16);
  folderDir = join(root, 'folder');
  let s = 7;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 26);
  for (let c = 0; c < 4; c++) {
    await mkdir(join(folderDir, `class-${c}`), { recursive: true });
    for (let i = 0; i < 10; i++) {
      const png = new PNG({ width: 8, height: 8 });
      for (let p = 0; p < 64; p++) {
        const v = rand() + ((p >> 3) === 2 * c || (p >> 3) === 2 * c + 1 ? 180 : 0);
        png.data.set([v, v, v, 255], p * 4);
      }
      await writeFile(join(folderDir, `class-${c}`, `${i}.png`), new Uint8Array(PNG.sync.write(png, { colorType: 0 })));
    }
  }
});

const ROW = (name: string, probe = true) => new RegExp(`^${name}\\s+(\\d+\\.\\d\\d) %\\s+${probe ? '(\\d+\\.\\d\\d) %' : ''}`, 'm');

for (const [kind, spec, split] of [
  ['idx', () => `idx:${idxDir}`, 'full split, 48 / 16'],
  ['folder', () => `folder:${folderDir}`, 'held-out split, 32 / 8'],
] as const) {
  test.serial(`eval --data ${kind}:DIR prints the table (encoder, random init, raw pixels; kNN and linear) and the summary`, async (t) => {
    const r = await cli(['eval', '--encoder', encoderDir, '--data', spec(), '--backend', 'cpu', '--k', '5']);
    t.is(r.code, 0, r.err);
    for (const row of ['encoder', 'same encoder, random init', 'raw pixels']) t.regex(r.out, ROW(row), row);
    const raw = ROW('raw pixels').exec(r.out)!;
    // The bar's row is the class: raw pixels must classify these images well on both read-outs.
    t.true(Number(raw[1]) >= 90 && Number(raw[2]) >= 90, `raw pixels ${raw[1]} / ${raw[2]}`);
    t.regex(r.out, new RegExp(`^encoder kNN \\d+\\.\\d\\d % / linear \\d+\\.\\d\\d % \\(${split}\\) — (beats|does not beat) raw pixels `, 'm'));

    // JSON: the same numbers, and the summary.
    const j = await cli(['eval', '--encoder', encoderDir, '--data', spec(), '--backend', 'cpu', '--k', '5', '--json']);
    t.is(j.code, 0, j.err);
    const result = JSON.parse(j.out);
    t.is((100 * result.knn.rawPixels).toFixed(2), raw[1]);
    t.is((100 * result.linear.rawPixels).toFixed(2), raw[2]);
    t.is(result.summary, r.out.split('\n').at(-1));
  });
}

test.serial('eval reads the baselines from the cache the second time, with the same numbers; --no-baseline-cache recomputes', async (t) => {
  const cache = process.env.TFJS_MOCO_CACHE!;
  const args = ['eval', '--encoder', encoderDir, '--data', `idx:${idxDir}`, '--backend', 'cpu', '--k', '3', '--json'];
  const first = await cli(args);
  t.is(first.code, 0, first.err);
  const entries = (await readdir(join(cache, 'baselines'))).length;
  const second = await cli([...args.slice(0, -1)]);
  t.regex(second.err, /raw-pixel baselines: from the cache/);
  t.regex(second.err, /random-init baseline: from the cache/);
  const again = JSON.parse((await cli(args)).out);
  t.deepEqual(again, JSON.parse(first.out));
  t.is((await readdir(join(cache, 'baselines'))).length, entries, 'no new entries for the same protocol');
  const fresh = await cli([...args.slice(0, -1), '--no-baseline-cache']);
  t.notRegex(fresh.err, /from the cache/);
  // Another k is another protocol: computed, not read.
  const otherK = await cli(['eval', '--encoder', encoderDir, '--data', `idx:${idxDir}`, '--backend', 'cpu', '--k', '4']);
  t.notRegex(otherK.err, /from the cache/);
});
