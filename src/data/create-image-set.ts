// An image set in memory (the ImageSet record) and its validating constructor, which every loader goes through.
/**
 * An in-memory image set: uint8 pixels, NHWC, row-major.
 *
 * Pixels stay uint8 in memory (Fashion-MNIST: 55 MB instead of 220 MB as float32) and become float32 in [0,1]
 * only when a batch is turned into a tensor.
 */
export interface ImageSet {
  /** e.g. 'fashion-mnist/train' or the path it came from. */
  readonly name: string;
  /**
   * count*height*width*channels bytes. May be a view into a larger buffer (a cached set shares one file
   * buffer): use the array itself, or its byteOffset/byteLength, never `images.buffer` alone.
   */
  readonly images: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Length count, when known. */
  readonly labels?: Int32Array;
  readonly classNames?: readonly string[];
}

/**
 * Checks that the fields of an image set agree (pixel count, label count, class indices) and returns a
 * clean object with just the ImageSet fields (pixels and labels are not copied). Loaders build their result
 * through this, so a bug there fails at load, not at step 300.
 */
export function createImageSet(fields: ImageSet): ImageSet {
  const { name, images, count, height, width, channels, labels, classNames } = fields;
  for (const [key, v] of [['count', count], ['height', height], ['width', width], ['channels', channels]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`image set ${name}: ${key} must be a non-negative integer, got ${v}`);
  }
  const expected = count * height * width * channels;
  if (images.length !== expected) {
    throw new RangeError(
      `image set ${name}: ${images.length} pixel bytes, expected ${count}*${height}*${width}*${channels} = ${expected}`,
    );
  }
  if (labels !== undefined && labels.length !== count) {
    throw new RangeError(`image set ${name}: ${labels.length} labels for ${count} images`);
  }
  if (labels !== undefined && classNames !== undefined) {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classNames.length) {
        throw new RangeError(`image set ${name}: label ${labels[i]} at ${i} is outside the ${classNames.length} classes`);
      }
    }
  }
  const set: ImageSet = { name, images, count, height, width, channels };
  return {
    ...set,
    ...(labels !== undefined ? { labels } : {}),
    ...(classNames !== undefined ? { classNames: Object.freeze([...classNames]) } : {}),
  };
}
