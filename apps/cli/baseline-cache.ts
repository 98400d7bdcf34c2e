// The baselines of an evaluation, computed once per data set and protocol and then read from disk.
//
// Why: on the full Fashion-MNIST split the two baselines cost more than the encoder's own evaluation. Measured on
// the 2-core test machine (wasm, one thread, the other core busy): raw-pixel kNN 57 s, mean-centred pixels 59 s,
// the pixel probe 10 s, the random-init encoder's features 85 s; the trained encoder's own features, kNN and
// probe ~100 s. Neither baseline depends on the training run: raw pixels depend on the images and the protocol,
// the random-init encoder on the architecture and its initialisers' seeds (the same for every run of a config).
// So a job inside a 10-minute budget would spend over 4 of them recomputing the same numbers. They are cached
// under a key that hashes everything they depend on, so a changed image, label, k, τ, probe setting, layer or
// initial weight gives a new key, never a stale number. The first run on a machine computes them and plans its
// training around that cost (see finalEvaluationSeconds in plan.ts).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSet } from '../../src/data/index.js';
import { evaluateEncoder, freshCopy, type EncoderEvaluation, type EvaluateEncoderOptions } from '../../src/eval/baselines.js';
import { LINEAR_PROBE_DEFAULTS, type LinearProbeOptions } from '../../src/eval/linear-probe.js';

/** Bump when the evaluation code changes what a cached number means. */
const CACHE_VERSION = 1;

/**
 * Where cached baselines live: $TFJS_MOCO_CACHE, else $XDG_CACHE_HOME/tfjs-moco, else ~/.cache/tfjs-moco; each
 * entry a small JSON file under baselines/.
 */
export function baselineCacheDir(): string {
  const root = process.env.TFJS_MOCO_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tfjs-moco');
  return join(root, 'baselines');
}

interface PixelEntry {
  knn: number;
  linear: number | null;
  centered: number;
}
interface RandomInitEntry {
  knn: number;
  linear: number | null;
}

export interface BaselineKeys {
  pixels: string;
  randomInit: string;
}

const sha = () => createHash('sha256');

function hashSet(h: ReturnType<typeof sha>, set: ImageSet): void {
  h.update(`${set.count}:${set.height}x${set.width}x${set.channels};`);
  h.update(set.images as Uint8Array);
  if (set.labels) h.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
}

/** Everything a baseline number depends on, hashed: the images and labels, k, τ and the probe's settings. */
function protocolHash(train: ImageSet, test: ImageSet, knn: { k?: number; temperature?: number }, probe: boolean | LinearProbeOptions | undefined): string {
  const h = sha();
  hashSet(h, train);
  hashSet(h, test);
  const probeSettings = probe ? { ...LINEAR_PROBE_DEFAULTS, ...(probe === true ? {} : probe) } : null;
  h.update(JSON.stringify({ v: CACHE_VERSION, k: knn.k ?? 200, temperature: knn.temperature ?? 0.1, probe: probeSettings }));
  return h.digest('hex');
}

/** The architecture and the exact initial weights of a model. */
function modelHash(model: tfl.LayersModel): string {
  const h = sha();
  h.update(JSON.stringify(model.toJSON(null, false)));
  for (const w of model.getWeights()) {
    const data = w.dataSync() as Float32Array;
    h.update(`${w.shape.join('x')};`);
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}

async function readEntry<T>(dir: string, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, `${key}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function writeEntry(dir: string, key: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Written whole, then renamed: a concurrent reader sees the old state or the new entry, never half of one.
  const tmp = join(dir, `${key}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(value) + '\n');
  await rename(tmp, join(dir, `${key}.json`));
}

export interface CachedEvaluationOptions extends Omit<EvaluateEncoderOptions, 'randomInitEncoder' | 'rawPixels' | 'centeredPixels' | 'train' | 'test'> {
  train: ImageSet;
  test: ImageSet;
  /** The cache folder; null: compute every baseline, read and write nothing. Default baselineCacheDir(). */
  cacheDir?: string | null;
}

/** Which baselines a cached evaluation would read from disk rather than compute. */
export interface CacheState {
  pixels: boolean;
  randomInit: boolean;
}

/**
 * The cache keys of an evaluation of `encoder`'s architecture (its random-init copy is built, hashed and
 * disposed) on train/test with these settings.
 */
export async function baselineKeys(encoder: tfl.LayersModel, opts: Pick<CachedEvaluationOptions, 'train' | 'test' | 'knn' | 'probe'>): Promise<BaselineKeys> {
  const protocol = protocolHash(opts.train, opts.test, opts.knn ?? {}, opts.probe);
  const fresh = await freshCopy(encoder);
  try {
    return {
      pixels: sha().update(`pixels:${protocol}`).digest('hex'),
      randomInit: sha().update(`random-init:${protocol}:${modelHash(fresh)}`).digest('hex'),
    };
  } finally {
    fresh.dispose();
  }
}

/** What is cached already for these keys. */
export async function cacheState(keys: BaselineKeys, cacheDir: string | null = baselineCacheDir()): Promise<CacheState> {
  if (cacheDir === null) return { pixels: false, randomInit: false };
  return {
    pixels: (await readEntry<PixelEntry>(cacheDir, keys.pixels)) !== undefined,
    randomInit: (await readEntry<RandomInitEntry>(cacheDir, keys.randomInit)) !== undefined,
  };
}

/**
 * evaluateEncoder with both baselines (random init; raw and mean-centred pixels), each read from the cache
 * when it holds them for exactly this protocol, else computed and stored. Returns the same EncoderEvaluation
 * as an uncached call, and which baselines came from the cache.
 */
export async function evaluateWithCachedBaselines(opts: CachedEvaluationOptions): Promise<{ result: EncoderEvaluation; cached: CacheState }> {
  const dir = opts.cacheDir === undefined ? baselineCacheDir() : opts.cacheDir;
  const { cacheDir: _unused, ...rest } = opts;
  const keys = dir === null ? undefined : await baselineKeys(opts.encoder, opts);
  const pixels = dir && keys ? await readEntry<PixelEntry>(dir, keys.pixels) : undefined;
  const random = dir && keys ? await readEntry<RandomInitEntry>(dir, keys.randomInit) : undefined;
  const log = opts.log ?? (() => {});
  if (pixels) log('raw-pixel baselines: from the cache (same images, labels and protocol)');
  if (random) log('random-init baseline: from the cache (same architecture, initial weights, images and protocol)');
  const result = await evaluateEncoder({ ...rest, randomInitEncoder: random ? null : undefined, rawPixels: !pixels, centeredPixels: !pixels });
  if (pixels) {
    result.knn.rawPixels = pixels.knn;
    result.knn.rawPixelsCentered = pixels.centered;
    if (result.linear) result.linear.rawPixels = pixels.linear;
  }
  if (random) {
    result.knn.randomInit = random.knn;
    if (result.linear) result.linear.randomInit = random.linear;
  }
  if (dir && keys) {
    if (!pixels) await writeEntry(dir, keys.pixels, { knn: result.knn.rawPixels, linear: result.linear?.rawPixels ?? null, centered: result.knn.rawPixelsCentered });
    if (!random) await writeEntry(dir, keys.randomInit, { knn: result.knn.randomInit, linear: result.linear?.randomInit ?? null });
  }
  return { result, cached: { pixels: Boolean(pixels), randomInit: Boolean(random) } };
}
