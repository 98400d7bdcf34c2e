// The data module: image sets in memory, the loaders that make them, and their conversion to tensors.
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
export { loadIdx, loadIdxDir, type IdxOptions } from './idx-loader.js';
export { loadImageFolder, type ImageFolderOptions } from './folder-loader.js';
export {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_TEST_PER_CLASS,
  fashionMnistCacheDir,
  loadFashionMnist,
  resolveFashionMnistDir,
  type FashionMnistOptions,
} from './fashion-mnist.js';
export { mixSeed, mulberry32, shuffledIndices } from './seeded-random.js';
