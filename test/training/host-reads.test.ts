// "One host read per step": a training step reads its loss, accuracy and gradient norm back in one transfer and
// nothing else, with Shuffle BN (whose key shuffle used to read its index tensors back through tf.gather) and
// with plain BatchNorm, on wasm. Counted at the backend's readSync between step events (on wasm a read copies out
// of the module's heap, as on WebGL it waits for the GPU; the cpu backend's own kernels call readSync on data that
// already is on the host, so there the count says nothing).
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import { createMoco, registerWasmTrainingKernels } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

for (const backend of ['wasm'] as const) {
  for (const normalization of [{ id: 'shuffle-bn', groups: 2 }, { id: 'batchnorm' }] as const) {
    test.serial(`${backend}, ${normalization.id}: one host read per training step`, async (t) => {
      await tf.setBackend(backend);
      if (backend === 'wasm') registerWasmTrainingKernels();
      const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, `reads-${backend}-${normalization.id}`), plugins: builtinPlugins, config: { dictionary: { size: 32 }, normalization } });
      const b = tf.backend() as tf.KernelBackend & { readSync: (id: object) => unknown };
      const readSync = b.readSync.bind(b);
      let reads = 0;
      b.readSync = (id: object) => {
        reads++;
        return readSync(id);
      };
      const perStep: number[] = [];
      moco.on('step').subscribe(() => {
        perStep.push(reads);
        reads = 0;
      });
      try {
        await moco.fit(randomImages(32), { epochs: 1, batchSize: 4 });
      } finally {
        b.readSync = readSync;
        moco.dispose();
      }
      t.is(perStep.length, 8);
      // The first step also builds the networks; from the second on, each step's reads are its own.
      t.deepEqual(perStep.slice(1), Array(7).fill(1), perStep.join(','));
    });
  }
}
