// The plain loop's "fast BN" variant: the model rebuilt the way the library's trainer rebuilds its encoders
// (rebuildEncoder with normalization 'batchnorm'), i.e. with every BatchNormalization replaced by the library's
// one-group GroupBatchNormalization, whose training gradient is one hand-written node instead of tfjs'
// op-by-op autodiff. So `plain-fastbn` is the plain loop to compare the `library` harness with.
import type * as tfl from '@tensorflow/tfjs-layers';
import { PlainBatchNorm } from '../plugins/index.js';
import { rebuildEncoder } from '../src/step/moco-encoders.js';

/** The model rebuilt with every BatchNormalization as a one-group GroupBatchNormalization, weights copied. */
export function withFastBatchNorm(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  return rebuildEncoder(model, new PlainBatchNorm('hand-written'), 'query');
}
