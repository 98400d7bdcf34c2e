import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../../../src/index.js';
import { applyToSome } from '../../../src/image-ops/per-image.js';

export interface CropOptions {
  /** Range of the crop's area as a share of the image (torchvision RandomResizedCrop; MoCo uses 0.2–1). */
  readonly scale: readonly [number, number];
  /** Range of the crop's aspect ratio w/h. */
  readonly ratio: readonly [number, number];
}

/**
 * Normalised crop boxes [y1, x1, y2, x2] for a batch, drawn as torchvision's RandomResizedCrop draws
 * them (area share and log-uniform aspect ratio, up to 10 tries, then the whole image). Drawn on the
 * host from the run's generator: a few numbers per image, no device sync.
 */
export function randomCropBoxes(n: number, opts: CropOptions, random: Random): Float32Array {
  const boxes = new Float32Array(n * 4);
  const [lo, hi] = opts.scale;
  const logR0 = Math.log(opts.ratio[0]);
  const logR1 = Math.log(opts.ratio[1]);
  for (let i = 0; i < n; i++) {
    let h = 1;
    let w = 1;
    for (let t = 0; t < 10; t++) {
      const area = lo + (hi - lo) * random.next();
      const aspect = Math.exp(logR0 + (logR1 - logR0) * random.next());
      const cw = Math.sqrt(area * aspect);
      const ch = Math.sqrt(area / aspect);
      if (cw <= 1 && ch <= 1) {
        w = cw;
        h = ch;
        break;
      }
    }
    const y = (1 - h) * random.next();
    const x = (1 - w) * random.next();
    boxes.set([y, x, y + h, x + w], i * 4);
  }
  return boxes;
}

/** Crop every image of the batch to its own box and resize back to the input size (bilinear). */
export function randomResizedCrop(images: tf.Tensor4D, opts: CropOptions, random: Random): tf.Tensor4D {
  const [n, height, width] = images.shape;
  const boxes = randomCropBoxes(n, opts, random);
  return tf.tidy(() =>
    tf.image.cropAndResize(images, tf.tensor2d(boxes, [n, 4]), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [height, width], 'bilinear'),
  );
}

/** Flip each image left-right with probability p, independently. */
export function randomFlip(images: tf.Tensor4D, p: number, random: Random): tf.Tensor4D {
  const n = images.shape[0];
  const mask = new Uint8Array(n).map(() => (random.next() < p ? 1 : 0));
  // applyToSome selects with a mask built at full size on the host: tf.where would broadcast an
  // [N,1,1,1] mask with Tile, which takes 20 ms for a [128,32,32,3] batch on wasm.
  return applyToSome(images, mask, (x) => tf.image.flipLeftRight(x));
}
