import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bufferBytes } from './read-data-file.js';
import { createImageSet } from '../../data/create-image-set.js';
import type { ImageSet } from '../../data/image-set.js';

/**
 * A compact binary cache for image sets, so that a data set converted once (e.g. from 150 MB of JSON) loads in
 * milliseconds afterwards. Layout, little-endian:
 *
 *   0  "TFMOCOIS"            magic (8 bytes)
 *   8  uint32 format version (1)
 *  12  uint32 header length L
 *  16  header: UTF-8 JSON { key, totalBytes, sets: [{ name, count, height, width, channels, classNames?,
 *      imagesOffset, labelsOffset? }] }
 *      then, at the offsets the header gives (8-byte aligned): each set's uint8 pixels and int32 labels.
 *
 * `key` describes the source (package version, file sizes, split); a cache with another key, another format
 * version, a wrong length or any malformation is treated as absent and rebuilt, never trusted.
 */
const MAGIC = 'TFMOCOIS';
const VERSION = 1;

interface SetHeader {
  name: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  classNames?: string[];
  imagesOffset: number;
  labelsOffset?: number;
}

interface CacheHeader {
  key: string;
  totalBytes: number;
  sets: SetHeader[];
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * Writes the sets atomically: into a temporary file in the same folder, flushed, then renamed over `path`.
 * A crash or a concurrent run never leaves a half-written cache under the real name.
 */
export async function writeImageSetCache(path: string, key: string, sets: readonly ImageSet[]): Promise<void> {
  // Offsets depend on the header length, which depends on the offsets: fix the header length first by
  // laying out with a generous upper bound, then pad the real header to it.
  const layout = (headerRoom: number): CacheHeader => {
    let offset = align8(16 + headerRoom);
    const headers = sets.map((s): SetHeader => {
      const h: SetHeader = {
        name: s.name,
        count: s.count,
        height: s.height,
        width: s.width,
        channels: s.channels,
        ...(s.classNames ? { classNames: [...s.classNames] } : {}),
        imagesOffset: offset,
      };
      offset = align8(offset + s.images.length);
      if (s.labels) {
        h.labelsOffset = offset;
        offset = align8(offset + s.labels.length * 4);
      }
      return h;
    });
    return { key, totalBytes: offset, sets: headers };
  };
  const room = Buffer.byteLength(JSON.stringify(layout(1 << 30))) + 16;
  const header = layout(room);
  const headerBytes = Buffer.alloc(align8(16 + room) - 16, 0x20); // JSON padded with spaces
  headerBytes.write(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);

  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const file = await open(tmp, 'w');
  try {
    let position = 0;
    const put = async (bytes: Uint8Array, at: number) => {
      if (at > position) await file.write(new Uint8Array(at - position), 0, at - position, position);
      await file.write(bytes, 0, bytes.length, at);
      position = at + bytes.length;
    };
    await put(bufferBytes(prefix), 0);
    await put(bufferBytes(headerBytes), 16);
    for (let i = 0; i < sets.length; i++) {
      const s = sets[i];
      const h = header.sets[i];
      await put(s.images, h.imagesOffset);
      if (s.labels && h.labelsOffset !== undefined) {
        const le = Buffer.alloc(s.labels.length * 4);
        s.labels.forEach((l, k) => le.writeInt32LE(l, k * 4));
        await put(bufferBytes(le), h.labelsOffset);
      }
    }
    if (header.totalBytes > position) await put(new Uint8Array(0), header.totalBytes);
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (err) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Reads a cache written by writeImageSetCache if it exists, is intact and was made for `key`; otherwise
 * undefined (the caller rebuilds it). The images are views into the one buffer read from disk, not copies.
 */
export async function readImageSetCache(path: string, key: string): Promise<ImageSet[] | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  try {
    if (bytes.length < 16 || bytes.toString('latin1', 0, 8) !== MAGIC || bytes.readUInt32LE(8) !== VERSION) return undefined;
    const headerLength = bytes.readUInt32LE(12);
    if (16 + headerLength > bytes.length) return undefined;
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength)) as CacheHeader;
    if (header.key !== key || header.totalBytes !== bytes.length || !Array.isArray(header.sets)) return undefined;
    return header.sets.map((h) => {
      const pixels = h.count * h.height * h.width * h.channels;
      if (h.imagesOffset + pixels > bytes.length) throw new Error('images out of bounds');
      const images = new Uint8Array(bytes.buffer, bytes.byteOffset + h.imagesOffset, pixels);
      let labels: Int32Array | undefined;
      if (h.labelsOffset !== undefined) {
        if (h.labelsOffset + h.count * 4 > bytes.length) throw new Error('labels out of bounds');
        labels = new Int32Array(h.count);
        for (let k = 0; k < h.count; k++) labels[k] = bytes.readInt32LE(h.labelsOffset + k * 4);
      }
      return createImageSet({ ...h, images, labels, classNames: h.classNames });
    });
  } catch {
    // Malformed in any way (bad JSON, bad bounds, inconsistent fields): rebuild rather than trust it.
    return undefined;
  }
}
