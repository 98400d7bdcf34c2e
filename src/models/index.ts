export { smallConvNet, type SmallConvNetOptions } from './small-convnet.js';
export { resnet18Cifar, type ResNetCifarOptions } from './resnet-cifar.js';
export { countMacs, countParams, type ParamCounts } from './model-stats.js';
export { basicBlock } from './basic-block.js';
export { LayerFactory, BN_EPSILON, BN_MOMENTUM } from './layer-factory.js';
