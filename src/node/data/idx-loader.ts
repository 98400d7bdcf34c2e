import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, fsErrorToDataError } from '../../data/errors.js';
import { createImageSet } from '../../data/create-image-set.js';
import type { ImageSet } from '../../data/image-set.js';
import { readDataFile } from './read-data-file.js';

/**
 * The IDX format of MNIST and Fashion-MNIST (`*-images-idx3-ubyte`, `*-labels-idx1-ubyte`): a 4-byte magic
 * number (0, 0, element type, number of dimensions), one big-endian uint32 per dimension, then the elements.
 * Only unsigned bytes (type 0x08) are supported: that is what image and label files hold.
 */
const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

export interface IdxOptions {
  /** Class names for the labels (IDX files carry none), e.g. FASHION_MNIST_CLASS_NAMES. */
  classNames?: readonly string[];
}

interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

function hex(n: number, digits: number): string {
  return '0x' + n.toString(16).padStart(digits, '0');
}

/** Parses an IDX file whose rank must be one of `ranks`; `what` names the expected content in messages. */
function parseIdx(path: string, bytes: Uint8Array, ranks: readonly number[], what: string): IdxArray {
  if (bytes.length < 4) throw new DataError(path, `too short for an IDX file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2];
  const rank = bytes[3];
  const expectedMagics = ranks.map((r) => hex((UBYTE << 8) | r, 8)).join(' or ');
  if (bytes[0] !== 0 || bytes[1] !== 0 || TYPE_NAMES[type] === undefined || rank === 0) {
    throw new DataError(path, `wrong magic number ${hex(magic, 8)}: not an IDX file (expected ${expectedMagics} for ${what})`);
  }
  if (type !== UBYTE) {
    throw new DataError(path, `IDX element type ${TYPE_NAMES[type]} (${hex(type, 2)}) is not supported, only unsigned byte (0x08)`);
  }
  if (!ranks.includes(rank)) {
    throw new DataError(
      path,
      `wrong magic number ${hex(magic, 8)}: an IDX file with ${rank} dimension(s), expected ${expectedMagics} for ${what}` +
        ' (images and labels swapped?)',
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new DataError(path, `truncated IDX header (${bytes.length} of ${headerBytes} bytes)`);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const present = bytes.length - headerBytes;
  if (present < expected) {
    throw new DataError(
      path,
      `truncated: header says ${dims.join('x')} (${expected} bytes of data) but only ${present} bytes follow the header`,
    );
  }
  if (present > expected) {
    throw new DataError(path, `header says ${dims.join('x')} (${expected} bytes of data) but ${present - expected} extra bytes follow`);
  }
  // A copy, so the set does not pin (or expose) the file's whole buffer.
  return { dims, data: new Uint8Array(bytes.subarray(headerBytes)) };
}

/**
 * Loads an IDX image file (N x H x W, or N x H x W x C) and, if given, its IDX label file, either gzip'ed or
 * raw. The set is named after the images path.
 */
export async function loadIdx(imagesPath: string, labelsPath?: string, opts: IdxOptions = {}): Promise<ImageSet> {
  const [imageBytes, labelBytes] = await Promise.all([
    readDataFile(imagesPath),
    labelsPath === undefined ? undefined : readDataFile(labelsPath),
  ]);
  const images = parseIdx(imagesPath, imageBytes, [3, 4], 'images');
  const [count, height, width, channels = 1] = images.dims;
  let labels: Int32Array | undefined;
  if (labelsPath !== undefined && labelBytes !== undefined) {
    const parsed = parseIdx(labelsPath, labelBytes, [1], 'labels');
    if (parsed.dims[0] !== count) {
      throw new DataError(labelsPath, `has ${parsed.dims[0]} labels but ${imagesPath} has ${count} images`);
    }
    labels = Int32Array.from(parsed.data);
    const classes = opts.classNames?.length;
    if (classes !== undefined) {
      const bad = labels.findIndex((l) => l >= classes);
      if (bad >= 0) throw new DataError(labelsPath, `label ${labels[bad]} at position ${bad} is outside the ${classes} class names given`);
    }
  }
  return createImageSet({
    name: imagesPath,
    images: images.data,
    count,
    height,
    width,
    channels,
    labels,
    classNames: labels ? opts.classNames : undefined,
  });
}

/** The names MNIST-style distributions use (yann.lecun.com, Zalando, Debian's dataset-fashion-mnist, Kaggle). */
function candidateNames(prefix: 'train' | 't10k', kind: 'images' | 'labels'): string[] {
  const rank = kind === 'images' ? 3 : 1;
  const bases = [`${prefix}-${kind}-idx${rank}-ubyte`, `${prefix}-${kind}.idx${rank}-ubyte`];
  // Raw before gzip: when both are present the raw one loads faster.
  return [...bases, ...bases.map((b) => `${b}.gz`)];
}

/**
 * Finds and loads the standard MNIST-style files in a folder: `train-images-idx3-ubyte` (required),
 * `t10k-images-idx3-ubyte` (optional) and the matching `*-labels-idx1-ubyte` (optional), each raw or `.gz`
 * (the Kaggle spelling `train-images.idx3-ubyte` works too).
 */
export async function loadIdxDir(dir: string, opts: IdxOptions = {}): Promise<{ train: ImageSet; test?: ImageSet }> {
  let names: Set<string>;
  try {
    names = new Set(await readdir(dir));
  } catch (err) {
    throw fsErrorToDataError(dir, err);
  }
  const find = (prefix: 'train' | 't10k', kind: 'images' | 'labels') => {
    const name = candidateNames(prefix, kind).find((n) => names.has(n));
    return name === undefined ? undefined : join(dir, name);
  };
  const trainImages = find('train', 'images');
  if (trainImages === undefined) {
    throw new DataError(dir, `no training images found: expected one of ${candidateNames('train', 'images').join(', ')}`);
  }
  const testImages = find('t10k', 'images');
  const [train, test] = await Promise.all([
    loadIdx(trainImages, find('train', 'labels'), opts),
    testImages === undefined ? undefined : loadIdx(testImages, find('t10k', 'labels'), opts),
  ]);
  return test === undefined ? { train } : { train, test };
}
