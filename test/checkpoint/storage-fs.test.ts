// A browser app keeps model files in its own storage: a complete CheckpointFs replaces Node's file system,
// and nothing reaches the disk.
import test from 'ava';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModel, saveModel, type CheckpointFs } from '../../src/index.js';

function memoryFs(): CheckpointFs & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const bytes = (d: Uint8Array | string) => (typeof d === 'string' ? new TextEncoder().encode(d) : new Uint8Array(d));
  return {
    files,
    mkdir: async () => {},
    writeFile: async (p, d) => void files.set(p, bytes(d)),
    readFile: async (p) => {
      const f = files.get(p);
      if (!f) throw Object.assign(new Error(`no file ${p}`), { code: 'ENOENT' });
      return f;
    },
    rename: async (from, to) => {
      files.set(to, files.get(from)!);
      files.delete(from);
    },
    readdir: async (dir) => [...files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)),
    remove: async (p) => void files.delete(p),
    syncDir: async () => {},
    sha256: async (d) => String(d.length),
  };
}

test('saveModel and loadModel run on an app\'s own complete CheckpointFs: same outputs, nothing on disk', async (t) => {
  await tf.setBackend('cpu');
  const fs = memoryFs();
  const dir = `/tfjs-moco-storage-test-${process.pid}`;
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
  await saveModel(model, dir, { fs });
  t.deepEqual([...fs.files.keys()].sort(), [`${dir}/model.json`, `${dir}/weights.bin`]);
  t.false(existsSync(dir));
  const loaded = await loadModel(dir, { fs });
  const x = tf.tensor2d([[1, -2, 0.5]]);
  const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
  t.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});
