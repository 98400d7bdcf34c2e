import * as tf from '@tensorflow/tfjs-core';
import { mixChannels } from './random-grayscale.js';

/**
 * RGB ↔ HSV with elementwise tf ops on [N,H,W,1] planes, for the hue adjustment of color-jitter.ts.
 * The work is done in "hue-chroma-value" form (hue in sixths of a turn, chroma = max − min, value =
 * max), which a hue shift leaves c and v alone in and which needs no division by v and back; the
 * HSV functions are thin wrappers. Channels are taken apart by a matMul with a unit column and put
 * together by one concat: on the cpu backend a slice or split along the channel axis goes through a
 * generic per-element loop, tens of times slower. Every op counts there, so the formulas are lean.
 */

/** Hue in sixths of a turn (any real; [−1, 5) as computed), chroma and value planes, each [N,H,W,1]. */
export interface HcvPlanes {
  readonly hue6: tf.Tensor4D;
  readonly chroma: tf.Tensor4D;
  readonly value: tf.Tensor4D;
}

/** Hue in [0, 1) (a full turn is 1), saturation and value planes, each [N,H,W,1]. */
export interface HsvPlanes {
  readonly h: tf.Tensor4D;
  readonly s: tf.Tensor4D;
  readonly v: tf.Tensor4D;
}

/** Channel c of an [N,H,W,C] batch as an [N,H,W,1] plane. */
export function channel(images: tf.Tensor4D, c: number): tf.Tensor4D {
  const k = images.shape[3];
  return tf.tidy(() => mixChannels(images, tf.tensor2d(Array.from({ length: k }, (_, i) => (i === c ? 1 : 0)), [k, 1])));
}

/**
 * Hue, chroma and value as torchvision's `_rgb2hsv` computes the hue: (g − b)/c if red is the max,
 * 2 + (b − r)/c if green is (and red is not), else 4 + (r − g)/c; gray pixels (c = 0) get hue 0.
 * The numerators never exceed c in size, so dividing by max(c, 1e-12) instead of c is exact where
 * c > 0 and gives 0 where c = 0.
 */
export function rgbToHcv(rgb: tf.Tensor4D): HcvPlanes {
  if (rgb.shape[3] !== 3) throw new Error(`rgbToHcv: expected 3 channels, got ${rgb.shape[3]}`);
  return tf.tidy(() => {
    const [r, g, b] = [0, 1, 2].map((c) => channel(rgb, c));
    const value = tf.max(rgb, 3, true) as tf.Tensor4D;
    const chroma = tf.sub(value, tf.min(rgb, 3, true)) as tf.Tensor4D;
    const safe = tf.maximum(chroma, 1e-12);
    const hue6 = tf.where(
      tf.equal(value, r),
      tf.div(tf.sub(g, b), safe),
      tf.where(tf.equal(value, g), tf.add(tf.div(tf.sub(b, r), safe), 2), tf.add(tf.div(tf.sub(r, g), safe), 4)),
    ) as tf.Tensor4D;
    return { hue6, chroma, value };
  });
}

/**
 * Back to RGB in closed form: channel n ∈ {R: 5, G: 3, B: 1} is v − c·clamp(min(k, 4 − k), 0, 1)
 * with k = (n + hue6) mod 6 — torchvision's piecewise `_hsv2rgb` without its six-way select. Any
 * real hue6 works, so a shifted hue needs no wrapping. Each channel lies in [v − c, v], so RGB input
 * in [0,1] stays in [0,1].
 */
export function hcvToRgb(hue6: tf.Tensor4D, chroma: tf.Tensor4D, value: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const planes = [5, 3, 1].map((n) => {
      const k = tf.mod(tf.add(hue6, n), 6);
      return tf.sub(value, tf.mul(chroma, tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1)));
    });
    return tf.concat(planes, 3) as tf.Tensor4D;
  });
}

/** RGB → HSV as torchvision's `_rgb2hsv`: h in [0, 1), s = (max − min)/max (0 for black), v = max. */
export function rgbToHsv(rgb: tf.Tensor4D): HsvPlanes {
  return tf.tidy(() => {
    const { hue6, chroma, value } = rgbToHcv(rgb);
    return { h: tf.mod(tf.div(hue6, 6), 1) as tf.Tensor4D, s: tf.divNoNan(chroma, value) as tf.Tensor4D, v: value };
  });
}

/** HSV → RGB (torchvision's `_hsv2rgb`); h may be any real (taken mod 1). */
export function hsvToRgb(h: tf.Tensor4D, s: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => hcvToRgb(tf.mul(h, 6) as tf.Tensor4D, tf.mul(v, s) as tf.Tensor4D, v));
}
