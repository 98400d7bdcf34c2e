// The data module: image sets in memory, made from arrays, and their conversion to tensors.
export { DataError } from './errors.js';
export {
  createImageSet,
  imageSetBatch,
  imageSetBatchDataset,
  imageSetGather,
  imageSetToDataset,
  stratifiedSubset,
  subsetImageSet,
  type ImageBatch,
  type ImageBatchDatasetOptions,
  type ImageDatasetOptions,
  type ImageElement,
  type ImageSet,
} from './image-set.js';
export { mixSeed, mulberry32, shuffledIndices } from './seeded-random.js';
