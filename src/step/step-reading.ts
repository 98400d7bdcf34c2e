// The one host read of a training step, and the finiteness check made on it before the step's update is applied.
//
// A diverging run (learning rate too high, a bad image, float32 overflow) first shows as a loss or gradient that
// is NaN or ±Infinity. Every executor reads the step's numbers here, after the gradients are computed and BEFORE
// the optimizer, the key encoder (eq. 2) and the dictionary (§3.2) are updated, so that a non-finite step
// changes none of them: the run's weights stay those of its last finite step, and a checkpoint written after
// it is as good as the one before.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** A step's numbers, read from the device once. */
export interface StepReading {
  readonly loss: number;
  readonly accuracy: number;
  /** The L2 norm of all gradients together (before weight decay); Infinity when its square overflows float32. */
  readonly gradientNorm: number;
  /** Whether BatchNorm's moving statistics (updated by the forward passes themselves) are all finite. */
  readonly statisticsFinite: boolean;
  /** Loss, accuracy, gradient norm and moving statistics are all finite: the update may be applied. */
  readonly finite: boolean;
}

/**
 * Read loss, accuracy and the global gradient norm in one transfer (one `dataSync`), plus a finiteness probe of
 * the non-trainable weights of `models` (BatchNorm moving statistics: the forward passes update them in place,
 * so a step that overflowed may already have poisoned them). The probe is Σ(w·0), which is NaN exactly when a
 * value is NaN or ±Infinity; it costs a reduction over a few small vectors.
 */
export function readStep(loss: tf.Scalar, accuracy: tf.Scalar, grads: tf.NamedTensorMap, models: readonly (tfl.LayersModel | undefined)[] = []): StepReading {
  const values = tf.tidy(() => {
    const squares = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const normSquared = squares.length ? tf.addN(squares) : tf.scalar(0);
    const statistics = models.flatMap((m) => (m ? m.nonTrainableWeights.map((w) => tf.sum(tf.mul(w.read(), 0))) : []));
    const probe = statistics.length ? tf.addN(statistics) : tf.scalar(0);
    return tf.stack([tf.cast(loss, 'float32'), tf.cast(accuracy, 'float32'), tf.sqrt(normSquared), probe]);
  });
  const [l, a, norm, probe] = values.dataSync();
  values.dispose();
  return readingOf(l, a, norm, Number.isFinite(probe));
}

/** A reading from numbers already on the host (a replica's share adds to them). */
export function readingOf(loss: number, accuracy: number, gradientNorm: number, statisticsFinite = true): StepReading {
  const finite = Number.isFinite(loss) && Number.isFinite(accuracy) && Number.isFinite(gradientNorm) && statisticsFinite;
  return { loss, accuracy, gradientNorm, statisticsFinite, finite };
}

/** What was not finite in a reading, for messages: e.g. `loss NaN, gradient norm Infinity`. */
export function describeNonFinite(r: StepReading): string {
  const parts: string[] = [];
  if (!Number.isFinite(r.loss)) parts.push(`loss ${r.loss}`);
  if (!Number.isFinite(r.gradientNorm)) parts.push(`gradient norm ${r.gradientNorm}`);
  if (!Number.isFinite(r.accuracy)) parts.push(`pretext accuracy ${r.accuracy}`);
  if (!r.statisticsFinite) parts.push('BatchNorm moving statistics non-finite');
  return parts.join(', ') || 'all finite';
}
