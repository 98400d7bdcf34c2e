import * as tf from '@tensorflow/tfjs-core';
import type { StepBatch } from '../step/moco-step.js';

/**
 * A batched data-set element as a step takes it: images alone, or `{xs, index}` (the index is needed by a
 * memory bank). The indices are a new tensor (the caller disposes them); the images are the element's.
 */
export function readBatch(element: tf.TensorContainer, dictionary: { readonly id: string }, needsIndices: boolean): StepBatch {
  const obj = element as { xs?: unknown; index?: unknown } | null;
  const images = element instanceof tf.Tensor ? element : obj?.xs;
  if (!(images instanceof tf.Tensor)) {
    throw new TypeError('fit: each dataset element must be an image tensor [H,W,C] or an object {xs: image, index?: number}.');
  }
  if (images.rank !== 4) {
    throw new Error(`fit: batched images must be [batch, height, width, channels]; got shape ${JSON.stringify(images.shape)}. Give the dataset unbatched [H,W,C] images (fit batches them).`);
  }
  const index = element instanceof tf.Tensor ? undefined : obj?.index;
  if (index !== undefined && !(index instanceof tf.Tensor)) throw new TypeError('fit: element.index must be a number per image.');
  if (needsIndices && !index) {
    throw new Error(`dictionary '${dictionary.id}' needs each image's data-set index: give fit() a dataset of {xs, index} elements (imageSetToDataset does).`);
  }
  const indices = index ? tf.tidy(() => tf.reshape(tf.cast(index, 'int32'), [-1]) as tf.Tensor1D) : undefined;
  return { images: images as tf.Tensor4D, indices };
}
