// The CLI's run settings: a JSON file (--config) with flags on top, validated with zod, every default filled
// in. What a run resolved to is written to <out>/config.json, from which `resume` continues.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { CliError } from './cli-error.js';
import { BACKEND_NAMES, MODEL_NAMES } from './constants.js';

const positiveInt = z.number().int().min(1);
const perClass = z.number().int().min(0);
const stageStride = z.union([z.literal(1), z.literal(2)]);

export const runConfigSchema = z
  .object({
    /** fashion-mnist | idx:DIR | folder:DIR */
    data: z.string().default('fashion-mnist'),
    model: z
      .object({
        name: z.enum(MODEL_NAMES).default('small-convnet'),
        width: positiveInt.optional(),
        /** small-convnet only: channels of its three stages (default 2·width, 4·width, 8·width; src/models/small-convnet.ts). */
        stageWidths: z.tuple([positiveInt, positiveInt, positiveInt]).optional(),
        /** small-convnet only: stride of each stage's first block, 1 or 2 (default [2, 2, 2]). */
        stageStrides: z.tuple([stageStride, stageStride, stageStride]).optional(),
        // Default 1, the seed the recorded default runs used (seed 0 works too: see tfjsSeed in src/random/random.ts).
        seed: z.number().int().min(0).default(1),
      })
      .strict()
      .prefault({}),
    // 64, not the reference's 256: a 10-minute CPU run makes about one pass, and at one pass smaller batches
    // (more steps) learned more. One pass, wasm (kNN / linear probe on the default 5k/2k subsets, random init
    // 66.1 / 76.3): b256 68.3 / 74.5, b256 lr 0.15 67.9 / 75.2, b128 70.5 / 77.6, b128 lr 0.12 69.8 / 77.8,
    // b64 71.3 / 79.1 (`tfjs-moco pretrain --epochs 1 --batch-size N`, 2026-11-29).
    batchSize: z.number().int().min(2).default(64),
    /** Fixed epochs. Omitted: planned from the measured speed to fit `minutes`. */
    epochs: positiveInt.optional(),
    /** Steps per epoch (default: a full pass, or planned). */
    stepsPerEpoch: positiveInt.optional(),
    /** Wall-time budget of the whole job (training, monitoring, final evaluation) when epochs are planned. */
    minutes: z.number().positive().default(10),
    /** Epochs of the planned run when a full pass does not fit the budget (each then sees a fresh shuffle's first batches). */
    plannedEpochs: positiveInt.default(10),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    backend: z.enum(BACKEND_NAMES).default('auto'),
    /**
     * Threads to train on (data parallel: each computes a share of every batch, src/node/execution/). The wasm
     * backend runs one thread in Node, so this is how a run uses more cores. 0 (the default) = every core, at
     * most MAX_DEFAULT_WORKERS (see defaultWorkers); 1 = one thread, as runs before this default.
     */
    workers: z.number().int().min(0).max(64).default(0),
    /** kNN monitor every N epochs; 0 turns it off. */
    knnEvery: z.number().int().min(0).default(1),
    monitor: z
      .object({ trainPerClass: perClass.default(100), testPerClass: perClass.default(50), k: positiveInt.default(20), temperature: z.number().positive().default(0.1) })
      .strict()
      .prefault({}),
    /**
     * The final evaluation; 0 per class = every image. Default: the full split (every train image as the kNN
     * memory and probe training set, every test image as a query), the protocol published numbers use; subsets
     * score lower and compare with nothing (raw-pixel kNN on Fashion-MNIST: 72.1 % on 5,000 / 2,000, 79.8 % on
     * 60,000 / 10,000). The in-training monitor keeps its subsets: it only has to show the trend.
     */
    evaluation: z
      .object({
        trainPerClass: perClass.default(0),
        testPerClass: perClass.default(0),
        probe: z.boolean().default(true),
        /**
         * Read the baselines (raw pixels, random init) from the cache when it holds them for exactly this
         * protocol, and store them there when computed (apps/cli/baseline-cache.ts). Default true.
         */
        cacheBaselines: z.boolean().default(true),
        k: positiveInt.default(200),
        temperature: z.number().positive().default(0.1),
      })
      .strict()
      .prefault({}),
    checkpointEvery: z.union([z.object({ steps: positiveInt }).strict(), z.object({ epochs: positiveInt }).strict()]).default({ epochs: 1 }),
    /**
     * MoCo settings (createMoco's config) over the preset they name, 'fmnist-default' unless they name
     * another (see moco-settings.ts).
     */
    moco: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type RunConfigInput = z.input<typeof runConfigSchema>;
export type RunConfig = z.output<typeof runConfigSchema>;

/** What --quick changes: a ~1 minute smoke run of the same job. */
export const QUICK_OVERRIDES: RunConfigInput = {
  minutes: 1,
  // Small steps, so that a minute holds several of them after the speed measurement.
  batchSize: 64,
  plannedEpochs: 3,
  monitor: { trainPerClass: 30, testPerClass: 10, k: 10 },
  evaluation: { trainPerClass: 100, testPerClass: 50, k: 20 },
  // And a smaller queue: QUICK_MOCO in moco-settings.ts.
};

/**
 * The most threads `workers: 0` picks. Each worker trains a share of every batch and the gradients are summed
 * through the main thread once per step: at the default batch of 64, more than 4 workers would leave shares of
 * under 16 images, too little work per thread to pay for the exchange. More can be asked for explicitly.
 */
export const MAX_DEFAULT_WORKERS = 4;

/**
 * The threads a run trains on: `workers` if set, else every core up to MAX_DEFAULT_WORKERS. A host that
 * cannot start worker threads (no plugin modules for them, e.g. runCli embedded without io.pluginModules)
 * gets one thread by default rather than an error; an explicit `workers` above 1 still fails there, naming why.
 */
export function defaultWorkers(workers: number, canStartWorkers: boolean, cores = availableParallelism()): number {
  if (workers > 0) return workers;
  return canStartWorkers ? Math.max(1, Math.min(cores, MAX_DEFAULT_WORKERS)) : 1;
}

/** Refuse more workers than cores: each is a whole backend and replica (about 70 MB to 1 GB), and a core each. */
export function checkWorkers(workers: number, cores = availableParallelism()): void {
  if (workers > cores) {
    throw new CliError(`--workers ${workers}: this machine has ${cores} core${cores === 1 ? '' : 's'} available (os.availableParallelism()); use --workers ${cores} or fewer`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep merge of plain objects (later wins; arrays and values replace). */
export function deepMerge(...layers: (Obj | undefined)[]): Obj {
  const out: Obj = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
    }
  }
  return out;
}

export async function readConfigFile(path: string): Promise<Obj> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`--config ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--config ${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObj(json)) throw new CliError(`--config ${path}: expected a JSON object`);
  return json;
}

/** Validate the merged settings; the error names the field. */
export function resolveRunConfig(input: Obj, source: string): RunConfig {
  const parsed = runConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    throw new CliError(`${source}: ${field}: ${issue.message}`);
  }
  return parsed.data;
}
