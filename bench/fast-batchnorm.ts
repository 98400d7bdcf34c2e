// The plain loop's "fast BN" variant: the model rebuilt with every BatchNormalization replaced by the
// library's GroupBatchNormalization with one group (src/layers/group-batch-normalization.ts), whose
// training gradient is one hand-written node instead of tfjs' op-by-op autodiff. The library's
// normalization 'batchnorm' does the same rewrite by default, so `plain-fastbn` is the plain loop to
// compare the `library` harness with.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { rewriteBatchNorm } from '../src/index.js';

/** The model rebuilt with every BatchNormalization as a one-group GroupBatchNormalization, weights copied. */
export async function withFastBatchNorm(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as unknown;
  rewriteBatchNorm(topology, { groups: 1, unsupported: 'keep' });
  // A second JSON round trip drops the undefined fields, which the deserializer cannot read.
  const clean = JSON.parse(JSON.stringify(topology)) as tf.io.ModelJSON['modelTopology'];
  const copy = await tfl.models.modelFromJSON({ modelTopology: clean });
  const weights = tf.tidy(() => model.getWeights().map((w) => tf.mul(w, 1)));
  copy.setWeights(weights);
  tf.dispose(weights);
  return copy;
}
