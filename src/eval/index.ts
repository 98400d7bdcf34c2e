export {
  extractFeatures,
  rawPixelFeatures,
  pixelMean,
  type LabeledImages,
  type ExtractFeaturesOptions,
  type RawPixelOptions,
} from './features.js';
export { knnAccuracy, knnPredict, type KnnOptions, type KnnInput, type KnnEvalInput } from './knn-classifier.js';
export {
  linearProbe,
  softmaxRegressionGrads,
  LINEAR_PROBE_DEFAULTS,
  type LinearProbeOptions,
  type LinearProbeInput,
  type LinearProbeResult,
} from './linear-probe.js';
export {
  evaluateEncoder,
  freshCopy,
  type EvaluateEncoderOptions,
  type EncoderEvaluation,
  type BaselineAccuracies,
} from './baselines.js';
export { fineTune, classifierAccuracy, type FineTuneArgs, type FineTuneResult } from './fine-tune.js';
