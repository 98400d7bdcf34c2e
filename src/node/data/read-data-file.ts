import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DataError, fsErrorToDataError } from '../../data/errors.js';

const gunzipAsync = promisify(gunzip);

/**
 * A Buffer as a plain Uint8Array view (no copy). @types/node 20's Buffer does not type-check as a Uint8Array
 * under TypeScript 5.9's generic typed arrays, though it is one at run time.
 */
export function bufferBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** True if the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a whole file, gunzipping it if it is gzip. gzip is detected by its magic bytes, not by the `.gz`
 * name, because renamed and half-unpacked downloads are common for these data sets. Every failure is a
 * DataError naming the file.
 */
export async function readDataFile(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = bufferBytes(await readFile(path));
  } catch (err) {
    throw fsErrorToDataError(path, err);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return bufferBytes(await gunzipAsync(bytes));
  } catch (err) {
    throw new DataError(path, `gzip data is corrupt or truncated (${(err as Error).message})`, { cause: err });
  }
}
