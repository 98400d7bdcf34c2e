// File loaders (Node only): IDX files, image folders, and the Fashion-MNIST package's JSON, cached.
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
