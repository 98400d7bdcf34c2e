import type { ImageSet } from './image-set.js';

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
