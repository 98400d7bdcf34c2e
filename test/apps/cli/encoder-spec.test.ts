import test from 'ava';
import { maxAbsDiff, useCpu } from '../../helpers/tf.js';
import { buildEncoder } from '../../../apps/cli/encoder-spec.js';
import { freshCopy } from '../../../src/eval/index.js';

await useCpu();

test.serial('CLI encoders are seeded: two builds, and the random-init baseline (freshCopy), have the very same weights', async (t) => {
  for (const spec of [{ name: 'tiny' as const, seed: 1 }, { name: 'small-convnet' as const, width: 4, seed: 1 }]) {
    const a = buildEncoder(spec, [8, 8, 1]);
    const b = buildEncoder(spec, [8, 8, 1]);
    const c = await freshCopy(a);
    t.is(a.weights.length, c.weights.length);
    a.weights.forEach((w, i) => {
      t.is(maxAbsDiff(w.read(), b.weights[i].read()), 0, `${spec.name} ${w.originalName}`);
      t.is(maxAbsDiff(w.read(), c.weights[i].read()), 0, `${spec.name} ${w.originalName} (fresh copy)`);
    });
    [a, b, c].forEach((m) => m.dispose());
  }
});
