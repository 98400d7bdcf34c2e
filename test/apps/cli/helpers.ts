// Shared by the CLI tests: a small IDX data set on disk, a tiny run config, and in-process CLI runs.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../../apps/cli/program.js';
import { builtinPlugins } from '../../../plugins/index.js';

// The baseline cache of every CLI run in the tests (and of the executables they spawn, which inherit the
// environment): a fresh folder, never the user's ~/.cache.
process.env.TFJS_MOCO_CACHE = await mkdtemp(join(tmpdir(), 'tfjs-moco-cache-'));

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/**
 * `count` 8×8 grey images of 4 classes (a bright bar whose position is the class, plus noise: learnable) as
 * train-images-idx3-ubyte + train-labels-idx1-ubyte, and a t10k pair of `testCount`.
 */
export async function writeIdxFolder(dir: string, count = 48, testCount = 16): Promise<void> {
  await mkdir(dir, { recursive: true });
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  const make = (n: number) => {
    const images = new Uint8Array(n * 64);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 4;
      labels[i] = c;
      for (let p = 0; p < 64; p++) {
        const row = p >> 3;
        images[i * 64 + p] = (rand() >> 2) + (row === 2 * c || row === 2 * c + 1 ? 180 : 0);
      }
    }
    return { images, labels };
  };
  const train = make(count);
  const test = make(testCount);
  await writeFile(join(dir, 'train-images-idx3-ubyte'), idx([count, 8, 8], train.images));
  await writeFile(join(dir, 'train-labels-idx1-ubyte'), idx([count], train.labels));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), idx([testCount, 8, 8], test.images));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), idx([testCount], test.labels));
}

/** A run config that trains in seconds on the cpu backend. */
export const TINY_RUN = {
  model: { name: 'tiny', width: 4, seed: 1 },
  batchSize: 8,
  epochs: 3,
  backend: 'cpu',
  knnEvery: 1,
  monitor: { trainPerClass: 6, testPerClass: 3, k: 5 },
  evaluation: { trainPerClass: 0, testPerClass: 0, probe: true, k: 5 },
  checkpointEvery: { steps: 4 },
  moco: { head: { hidden: 16, dim: 16 }, dictionary: { size: 16 }, normalization: { groups: 2 } },
};

/** Run the CLI in this process, capturing its output. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), tty: false, plugins: builtinPlugins };
  const code = await runCli(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
