import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { bufferBytes } from './read-data-file.js';

/** A decoded image reduced to what an ImageSet needs: 1 channel if it is grey, else 3 (alpha dropped). */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** 1 when R = G = B at every pixel (a grey PNG or JPEG), else 3. */
  readonly channels: 1 | 3;
  /** height*width*channels bytes, row-major. */
  readonly pixels: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** 'png' or 'jpeg' by the file's first bytes (a mis-named file still decodes), else undefined. */
export function sniffImageFormat(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (startsWith(bytes, JPEG_MAGIC)) return 'jpeg';
  return undefined;
}

/**
 * Decodes a PNG (pngjs) or JPEG (jpeg-js) file. Throws a plain Error saying what is wrong; the folder loader
 * turns that into a skip-with-warning. Alpha is dropped, not composited: data-set images are opaque in
 * practice, and compositing would need a background colour nobody asked for.
 */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  const format = sniffImageFormat(bytes);
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  if (format === 'png') {
    // pngjs always hands back 8-bit RGBA (grey, palette and 16-bit input are expanded/rescaled).
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    ({ width, height } = png);
    rgba = bufferBytes(png.data);
  } else if (format === 'jpeg') {
    // tolerantDecoding false: a truncated scan is an error rather than an image with grey blocks.
    const jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
    ({ width, height } = jpeg);
    rgba = jpeg.data;
  } else {
    throw new Error('neither PNG nor JPEG (unrecognised first bytes)');
  }
  const n = width * height;
  if (n === 0) throw new Error('image has no pixels');
  if (rgba.length < n * 4) throw new Error(`decoder returned ${rgba.length} bytes for ${width}x${height} RGBA`);
  let grey = true;
  for (let p = 0; p < n && grey; p++) {
    const o = p * 4;
    grey = rgba[o] === rgba[o + 1] && rgba[o] === rgba[o + 2];
  }
  const channels = grey ? 1 : 3;
  const pixels = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    if (grey) pixels[p] = rgba[o];
    else {
      pixels[p * 3] = rgba[o];
      pixels[p * 3 + 1] = rgba[o + 1];
      pixels[p * 3 + 2] = rgba[o + 2];
    }
  }
  return { width, height, channels, pixels };
}

/**
 * The pixels with `channels` channels: grey to RGB by repetition, RGB to grey by ITU-R BT.601 luma
 * (0.299 R + 0.587 G + 0.114 B, rounded), the weights most image libraries use for "convert to L".
 */
export function convertChannels(image: DecodedImage, channels: 1 | 3): Uint8Array {
  if (image.channels === channels) return image.pixels;
  const n = image.width * image.height;
  const src = image.pixels;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let p = 0; p < n; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = src[p];
  } else {
    for (let p = 0; p < n; p++) {
      out[p] = Math.round(0.299 * src[p * 3] + 0.587 * src[p * 3 + 1] + 0.114 * src[p * 3 + 2]);
    }
  }
  return out;
}
