// The page's data: a toy labelled image set drawn in the browser (no download), four shape classes at
// random positions, sizes and grey levels on a noisy background. Labels are used only by the kNN read-out.
import { Random, createImageSet, type ImageSet } from '../../src/index.js'; // 'tfjs-moco' outside this repository

export const TOY_CLASSES = ['bar', 'disc', 'cross', 'frame'] as const;

function covers(cls: number, dx: number, dy: number, r: number): boolean {
  switch (cls) {
    case 0: // a horizontal bar
      return Math.abs(dy) <= r / 3 && Math.abs(dx) <= r;
    case 1: // a filled disc
      return Math.hypot(dx, dy) <= r;
    case 2: // a diagonal cross
      return Math.abs(Math.abs(dx) - Math.abs(dy)) <= 1 && Math.max(Math.abs(dx), Math.abs(dy)) <= r;
    default: // a hollow frame
      return Math.max(Math.abs(dx), Math.abs(dy)) <= r && Math.max(Math.abs(dx), Math.abs(dy)) >= r - 1.5;
  }
}

/**
 * `perClass` images of each class, `size`×`size`×1, uint8, the same for the same seed.
 *
 * @example
 * const train = toyShapes(64, 16, 1); // 256 images
 */
export function toyShapes(perClass: number, size: number, seed: number): ImageSet {
  const random = new Random(seed);
  const count = perClass * TOY_CLASSES.length;
  const images = new Uint8Array(count * size * size);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const cls = i % TOY_CLASSES.length;
    labels[i] = cls;
    const r = 3 + random.next() * (size / 5);
    const cx = r + random.next() * (size - 2 * r);
    const cy = r + random.next() * (size - 2 * r);
    const bg = 10 + random.next() * 70;
    const fg = 160 + random.next() * 90;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = (covers(cls, x - cx, y - cy, r) ? fg : bg) + (random.next() - 0.5) * 50;
        images[(i * size + y) * size + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return createImageSet({ name: `toy-shapes/${seed}`, images, count, height: size, width: size, channels: 1, labels, classNames: [...TOY_CLASSES] });
}
