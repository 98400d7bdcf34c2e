import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { useCpu } from '../../../helpers/tf.js';
import { Random } from '../../../../src/index.js';
import { randomFlip } from '../../../../plugins/augmentation/crop-flip/random-resized-crop.js';

await useCpu();

test('randomFlip mirrors exactly the images its draws choose (p 0.5, seeded) and leaves the others as they were', (t) => {
  const n = 16;
  const images = tf.randomUniform([n, 3, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
  // The same draws as randomFlip makes: one per image, flipped when below p.
  const draws = new Random(7);
  const chosen = Array.from({ length: n }, () => draws.next() < 0.5);
  t.true(chosen.some((c) => c) && chosen.some((c) => !c), 'the seed picks some images and not others');
  const out = randomFlip(images, 0.5, new Random(7));
  const mirrored = tf.image.flipLeftRight(images);
  const [o, m, x] = [out, mirrored, images].map((a) => a.arraySync() as number[][][][]);
  for (let i = 0; i < n; i++) t.deepEqual(o[i], chosen[i] ? m[i] : x[i], `image ${i}`);
  // p 0: the input itself, nothing computed; p 1: every image mirrored.
  t.is(randomFlip(images, 0, new Random(7)), images);
  t.deepEqual(randomFlip(images, 1, new Random(7)).arraySync(), m);
  tf.dispose([images, out, mirrored]);
});
