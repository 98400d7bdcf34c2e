// `tfjs-moco eval`: an encoder's frozen features beside both baselines (random init, raw pixels).
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadModel } from '../../src/checkpoint/model-files.js';
import { stratifiedSubset, type ImageSet } from '../../src/data/index.js';
import { baselineCacheDir, evaluateWithCachedBaselines } from './baseline-cache.js';
import { summaryLine } from './report.js';
import { useBackend } from './backend.js';
import { CliError } from './cli-error.js';
import { describeSet, loadData } from './data-spec.js';
import type { CliIo } from './progress.js';

export interface EvalFlags {
  encoder: string;
  data: string;
  json?: boolean;
  trainPerClass: number;
  testPerClass: number;
  probe: boolean;
  k: number;
  seed: number;
  /** false (--no-baseline-cache): compute both baselines, read and write no cache. */
  baselineCache?: boolean;
  backend: 'auto' | 'cpu' | 'wasm' | 'tensorflow';
}

export async function evalCommand(flags: EvalFlags, io: CliIo): Promise<number> {
  const dir = resolve(flags.encoder);
  try {
    await stat(join(dir, 'model.json'));
  } catch {
    throw new CliError(`--encoder ${dir}: no model.json there (give the folder tfjs-moco pretrain wrote, or one saved with saveModel)`);
  }
  await useBackend(flags.backend, false, io.err);
  const data = await loadData(flags.data, (m) => io.err(`warning: ${m}`));
  if (!data.test || !data.train.labels) throw new CliError(`--data ${flags.data}: evaluation needs labelled images (class sub-folders or label files)`);
  const encoder = await loadModel(dir);
  try {
    const [, h, w, c] = encoder.inputs[0].shape;
    if (h !== data.train.height || w !== data.train.width || c !== data.train.channels) {
      throw new CliError(`--encoder ${dir} takes ${h}×${w}×${c} images, but --data ${flags.data} has ${data.train.height}×${data.train.width}×${data.train.channels}`);
    }
    const subset = (set: ImageSet, perClass: number) => (perClass === 0 ? set : stratifiedSubset(set, perClass, flags.seed));
    const train = subset(data.train, flags.trainPerClass);
    const test = subset(data.test, flags.testPerClass);
    io.err(`evaluating on ${describeSet(train)} (memory / probe training) and ${describeSet(test)} (queries)`);
    const { result } = await evaluateWithCachedBaselines({
      encoder,
      train,
      test,
      probe: flags.probe,
      knn: { k: flags.k },
      cacheDir: flags.baselineCache === false ? null : baselineCacheDir(),
      log: flags.json ? undefined : (m) => io.err(m),
    });
    const full = train === data.train && test === data.test;
    const summary = summaryLine(result, `${data.heldOut ? 'held-out split' : full ? 'full split' : 'subset'}, ${result.trainCount} / ${result.testCount}`);
    if (flags.json) {
      io.out(JSON.stringify({ encoder: dir, data: flags.data, split: full ? 'full' : 'subset', summary, ...result }, null, 2));
    } else {
      const f = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(2)} %`);
      io.out(`features                   kNN        linear probe`);
      io.out(`encoder                    ${f(result.knn.encoder).padEnd(10)} ${f(result.linear?.encoder)}`);
      io.out(`same encoder, random init  ${f(result.knn.randomInit).padEnd(10)} ${f(result.linear?.randomInit)}`);
      io.out(`raw pixels                 ${f(result.knn.rawPixels).padEnd(10)} ${f(result.linear?.rawPixels)}`);
      io.out(`raw pixels, centred        ${f(result.knn.rawPixelsCentered).padEnd(10)}`);
      io.out(summary);
    }
    return 0;
  } finally {
    encoder.dispose();
  }
}
