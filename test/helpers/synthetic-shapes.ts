// A small labelled image set the tests draw themselves: four shape classes at random positions,
// sizes and contrasts, on noisy backgrounds. Labels are used only to evaluate.
import { Random } from '../../src/index.js';
import type { ImageSet } from '../../src/data/index.js';

export const SHAPE_CLASSES = ['square', 'disc', 'cross', 'ring'] as const;

function inside(cls: number, dx: number, dy: number, r: number): boolean {
  const d = Math.hypot(dx, dy);
  switch (cls) {
    case 0: // hollow square
      return Math.max(Math.abs(dx), Math.abs(dy)) <= r && Math.max(Math.abs(dx), Math.abs(dy)) > r - 1.5;
    case 1: // filled disc
      return d <= r;
    case 2: // plus-shaped cross
      return (Math.abs(dx) <= 1 && Math.abs(dy) <= r) || (Math.abs(dy) <= 1 && Math.abs(dx) <= r);
    default: // ring
      return d <= r && d > r - 1.5;
  }
}

/** `perClass` images of each class, size×size×1, uint8; deterministic for a seed. */
export function syntheticShapes(perClass: number, size = 16, seed = 1): ImageSet {
  const random = new Random(seed);
  const count = perClass * SHAPE_CLASSES.length;
  const images = new Uint8Array(count * size * size);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const cls = i % SHAPE_CLASSES.length;
    labels[i] = cls;
    const r = 3 + random.next() * (size / 4);
    const cx = r + random.next() * (size - 2 * r);
    const cy = r + random.next() * (size - 2 * r);
    const bg = 20 + random.next() * 80;
    const fg = 150 + random.next() * 100;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = (inside(cls, x - cx, y - cy, r) ? fg : bg) + (random.next() - 0.5) * 60;
        images[i * size * size + y * size + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { name: `synthetic-shapes/${seed}`, images, count, height: size, width: size, channels: 1, labels, classNames: [...SHAPE_CLASSES] };
}
