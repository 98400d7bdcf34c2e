// The plain-loop harness of `npm run bench`: the same MoCo step written directly with tfjs ops,
// with no library code in the step, so the library's overhead is a ratio against it.
//
// Same model (the backbone built by the same src/models function, plus a linear 128-d head),
// same settings as the library's rows: crop (area 0.2-1, ratio 3/4-4/3) + flip (p 0.5) per view,
// key encoder forward in train mode (plain BatchNorm, whole-batch statistics), L2 normalisation,
// logits [q·k+, q·queueᵀ]/0.07 against a [K,d] queue, InfoNCE, SGD momentum 0.9 with weight decay
// 1e-4 added to the gradients, EMA m = 0.999 per variable, ring-buffer enqueue (concat of row
// slices), one host read of the loss. Only the pretext accuracy the library also reports is left out.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { inputShape, Lcg, PartTimer, type CaseSpec } from './common.js';
import { withFastBatchNorm } from './fast-batchnorm.js';
import type { Harness } from './library-step.js';

const TAU = 0.07;
const M = 0.999;
const WD = 1e-4;
const DIM = 128;

export function l2n(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12)));
}

export function withHead(backbone: tfl.LayersModel, name: string): tfl.LayersModel {
  const h = tfl.layers
    .dense({ units: DIM, name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: 11 }) })
    .apply(backbone.outputs[0]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: backbone.inputs, outputs: h, name });
}

/** Random resized crop + flip of one view, as the crop-flip plugin draws it. */
export function cropFlip(x: tf.Tensor4D, rng: Lcg): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const boxes = new Float32Array(n * 4);
  const flips = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let ch = 1;
    let cw = 1;
    for (let t = 0; t < 10; t++) {
      const area = 0.2 + 0.8 * rng.next();
      const aspect = Math.exp(Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * rng.next());
      const a = Math.sqrt(area * aspect);
      const b = Math.sqrt(area / aspect);
      if (a <= 1 && b <= 1) {
        cw = a;
        ch = b;
        break;
      }
    }
    const y = (1 - ch) * rng.next();
    const xx = (1 - cw) * rng.next();
    boxes.set([y, xx, y + ch, xx + cw], i * 4);
    flips[i] = rng.next() < 0.5 ? 1 : 0;
  }
  const cropped = tf.image.cropAndResize(x, tf.tensor2d(boxes, [n, 4]), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [h, w], 'bilinear');
  return tf.where(tf.tensor4d(flips, [n, 1, 1, 1], 'bool'), tf.image.flipLeftRight(cropped), cropped) as tf.Tensor4D;
}

/**
 * The query and key encoders of the plain loop: backbone + linear head each, the key starting as an exact copy
 * of the query (own variables). variant 'fastbn': every BatchNormalization replaced by the library's one-group
 * GroupBatchNormalization (bench/fast-batchnorm.ts), the layer the library trains with by default.
 */
export async function plainEncoders(
  makeBackbone: (name: string) => tfl.LayersModel,
  variant: 'plain' | 'fastbn',
  prefix = 'plain',
): Promise<{ query: tfl.LayersModel; key: tfl.LayersModel }> {
  let query = withHead(makeBackbone(`${prefix}_query`), `${prefix}_query_enc`);
  let key = withHead(makeBackbone(`${prefix}_key`), `${prefix}_key_enc`);
  if (variant === 'fastbn') {
    const [q0, k0] = [query, key];
    [query, key] = [await withFastBatchNorm(q0), await withFastBatchNorm(k0)];
    q0.dispose();
    k0.dispose();
  }
  // Own copies of the query's weights (fresh dataIds: mul by 1).
  const copies = tf.tidy(() => query.getWeights().map((w) => tf.mul(w, 1)));
  key.setWeights(copies);
  tf.dispose(copies);
  return { query, key };
}

export async function plainLoopHarness(
  makeBackbone: (name: string) => tfl.LayersModel,
  spec: CaseSpec,
  variant: 'plain' | 'fastbn' = 'plain',
): Promise<Harness> {
  const { query, key } = await plainEncoders(makeBackbone, variant);
  const qVars = query.trainableWeights.map((w) => w.read() as tf.Variable);
  const kVars = key.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.momentum(0.03, 0.9);
  const queue = tf.tidy(() => tf.variable(l2n(tf.randomNormal([spec.queue, DIM], 0, 1, 'float32', 5)), false));
  let pointer = 0;
  const rng = new Lcg(3);
  const images = tf.randomUniform(inputShape(spec.model, spec.batch), 0, 1, 'float32', 7) as tf.Tensor4D;
  const keep = tf.scalar(M);
  const take = tf.scalar(1 - M);

  const run = (timer?: PartTimer): number => {
    timer?.reset();
    const loss = tf.tidy(() => {
      const v1 = cropFlip(images, rng);
      const v2 = cropFlip(images, rng);
      timer?.lap('augment');
      const k = l2n(key.apply(v2, { training: true }) as tf.Tensor2D);
      timer?.lap('keyForward');
      const { value, grads } = tf.variableGrads(() => {
        const q = l2n(query.apply(v1, { training: true }) as tf.Tensor2D);
        timer?.lap('queryForward');
        const pos = tf.sum(tf.mul(q, k), 1, true);
        const neg = tf.matMul(q, queue, false, true);
        const logits = tf.div(tf.concat([pos, neg], 1), TAU);
        const l = tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.div(pos, TAU), [1]))) as tf.Scalar;
        timer?.lap('lossDictionary');
        return l;
      }, qVars);
      timer?.lap('backward');
      const decayed: tf.NamedTensorMap = {};
      for (const v of qVars) decayed[v.name] = tf.add(grads[v.name], tf.mul(v, WD));
      optimizer.applyGradients(decayed as unknown as Parameters<tf.MomentumOptimizer['applyGradients']>[0]);
      timer?.lap('optimizer');
      for (let i = 0; i < qVars.length; i++) kVars[i].assign(tf.add(tf.mul(kVars[i], keep), tf.mul(qVars[i], take)));
      timer?.lap('ema');
      const n = k.shape[0];
      const kq = spec.queue;
      const parts: tf.Tensor[] = [];
      if (pointer > 0) parts.push(tf.slice(queue, [0, 0], [pointer, -1]));
      parts.push(k);
      if (pointer + n < kq) parts.push(tf.slice(queue, [pointer + n, 0], [kq - pointer - n, -1]));
      queue.assign(tf.concat(parts, 0) as tf.Tensor2D);
      pointer = (pointer + n) % kq;
      timer?.lap('enqueue');
      return value;
    });
    timer?.lap('other');
    const v = loss.dataSync()[0];
    loss.dispose();
    timer?.lap('readback');
    return v;
  };

  return {
    step: () => run(),
    stepWithParts: () => {
      const timer = new PartTimer();
      const loss = run(timer);
      return { loss, parts: timer.parts };
    },
    headFwdBwdMs: () => NaN,
    dispose: () => {
      tf.dispose([images, queue, keep, take]);
      optimizer.dispose();
      query.dispose();
      key.dispose();
    },
  };
}
