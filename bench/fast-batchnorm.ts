// Bench-only prototype for proposal "BatchNorm with a hand-written backward": a drop-in
// replacement for tfjs-layers' BatchNormalization (channels last) whose training-mode gradient is
// one tf.customGrad with the textbook formula
//     dx = gamma/sigma * (dy - mean(dy) - xhat * mean(dy * xhat)),  dgamma = sum(dy * xhat),  dbeta = sum(dy)
// instead of tfjs' autodiff through tf.moments + FusedBatchNorm, whose gradient tiles 1/sigma to the
// full activation shape (a Tile kernel per BN layer, the slowest kernel of a wasm step) and
// materialises ones(x.shape) for Mean's gradient: 73 kernels per BN layer fwd+bwd vs 33
// (bench/proposals.ts --only bn). Same weights in the same order (gamma, beta, moving_mean,
// moving_variance), same moving-average update, so a model converts both ways by class name.
//
// Used by the 'plain-fastbn' harness of `npm run bench` to measure the whole-step effect.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';
import type { Shape } from '@tensorflow/tfjs-layers/dist/keras_format/common.js';

interface Args {
  momentum?: number;
  epsilon?: number;
  name?: string;
  trainable?: boolean;
  batchInputShape?: Shape;
  dtype?: tf.DataType;
}

export class BenchFastBatchNorm extends tfl.layers.Layer {
  static className = 'BenchFastBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: LayerVariable;
  private beta!: LayerVariable;
  private movingMean!: LayerVariable;
  private movingVariance!: LayerVariable;

  constructor(args: Args = {}) {
    super(args as never);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = shape[shape.length - 1] as number;
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const gamma = this.gamma.read();
      const beta = this.beta.read();
      const eps = this.epsilon;
      if (!kwargs['training']) return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), beta, gamma, eps);
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      // The statistics are inputs of neither the customGrad node nor anything on the way to the loss,
      // so autodiff never differentiates tf.moments; the gradient below accounts for them.
      const { mean, variance } = tf.moments(x, axes);
      const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [xx, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
        // mean/variance come from outside the node: saved (kept) so the backward still has them.
        save([xx, g, mean, variance]);
        return {
          value: tf.batchNorm(xx, mean, variance, b, g, eps),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [xs, gs, mu, v] = saved;
            const n = xs.size / xs.shape[xs.rank - 1];
            const inv = tf.rsqrt(tf.add(v, eps));
            const xhat = tf.mul(tf.sub(xs, mu), inv);
            const dbeta = tf.sum(dy, axes);
            const dgamma = tf.sum(tf.mul(dy, xhat), axes);
            const dx = tf.mul(tf.mul(gs, inv), tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(xhat, tf.div(dgamma, n))));
            return [dx, dgamma, dbeta];
          },
        };
      });
      const y = normalize(x, gamma, beta);
      const decay = 1 - this.momentum;
      const mm = this.movingMean.read();
      const mv = this.movingVariance.read();
      this.movingMean.write(tf.sub(mm, tf.mul(tf.sub(mm, mean), decay)));
      this.movingVariance.write(tf.sub(mv, tf.mul(tf.sub(mv, variance), decay)));
      return y;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(BenchFastBatchNorm);

/** The model rebuilt with every BatchNormalization replaced by BenchFastBatchNorm, weights copied. */
export async function withFastBatchNorm(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as unknown;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== 'object') return;
    const node = v as Record<string, unknown>;
    if (node.class_name === 'BatchNormalization') {
      const c = node.config as Record<string, unknown>;
      node.class_name = BenchFastBatchNorm.className;
      node.config = { name: c.name, trainable: c.trainable, dtype: c.dtype, momentum: c.momentum, epsilon: c.epsilon };
      return;
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(topology);
  // A second JSON round trip drops the undefined fields, which the deserializer cannot read.
  const clean = JSON.parse(JSON.stringify(topology)) as tf.io.ModelJSON['modelTopology'];
  const copy = await tfl.models.modelFromJSON({ modelTopology: clean });
  const weights = tf.tidy(() => model.getWeights().map((w) => tf.mul(w, 1)));
  copy.setWeights(weights);
  tf.dispose(weights);
  return copy;
}
