// What the page runs, independent of the page: MoCo pretraining of a small conv net on the toy shapes, every
// step event handed to `onStep` (the page draws the chart from them), then a kNN read-out of the encoder
// beside the same architecture at random init and the raw pixels.
import * as tf from '@tensorflow/tfjs-core';
import {
  createMoco,
  evaluateEncoder,
  imageSetToDataset,
  smallConvNet,
  type EncoderEvaluation,
  type MocoEvent,
} from '../../src/index.js'; // 'tfjs-moco' outside this repository
import { builtinPlugins } from '../../plugins/index.js'; // 'tfjs-moco/plugins'
import { toyShapes } from './toy-shapes.js';

export type StepEvent = Extract<MocoEvent, { type: 'step' }>;

export interface PretrainToyOptions {
  /** Training steps (batches), rounded up to whole epochs of equal length. Default 24. */
  steps?: number;
  /** Images per batch. Default 32. */
  batchSize?: number;
  /** Seed of the data, the initial weights and the augmentation. Default 1. */
  seed?: number;
  /** Called after every step with its event and `tf.memory().numTensors` at that moment. */
  onStep?: (event: StepEvent, numTensors: number) => void;
  /** Run the kNN read-out after training. Default true. */
  evaluate?: boolean;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

export interface PretrainToyResult {
  steps: StepEvent[];
  numTensors: number[];
  /** Absent when `evaluate` is false. */
  evaluation?: EncoderEvaluation;
  seconds: number;
}

/**
 * Pretrains on the active tfjs backend and evaluates with kNN.
 *
 * @example
 * await tf.setBackend('webgl');
 * const { evaluation } = await pretrainToy({ steps: 24, onStep: (e) => chart.add(e) });
 */
export async function pretrainToy(options: PretrainToyOptions = {}): Promise<PretrainToyResult> {
  const steps = options.steps ?? 24;
  const batchSize = options.batchSize ?? 32;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const train = toyShapes(48, 16, seed); // 192 images: 6 batches of 32 per epoch
  const test = toyShapes(16, 16, seed + 1000);
  const encoder = smallConvNet({ inputShape: [16, 16, 1], width: 8, seed });
  const moco = createMoco({
    backbone: encoder,
    plugins: builtinPlugins,
    config: {
      seed,
      head: { dim: 32 },
      // A queue of two batches: full after two steps, so the task is fixed early and its loss can fall.
      dictionary: { id: 'queue', size: 2 * batchSize },
      update: { id: 'momentum', keyEncoderMomentum: 0.9 },
      augmentation: 'crop-flip',
      optimizer: { learningRate: 0.06, schedule: 'constant' },
    },
  });
  const events: StepEvent[] = [];
  const numTensors: number[] = [];
  moco.on('step').subscribe((e) => {
    const n = tf.memory().numTensors;
    events.push(e);
    numTensors.push(n);
    options.onStep?.(e, n);
  });
  const started = performance.now();
  // Whole epochs of equal length: `steps` exactly when it splits evenly, else rounded up to the next split.
  const epochs = Math.ceil(steps / Math.floor(train.count / batchSize));
  await moco.fit(imageSetToDataset(train, { shuffle: true, seed }), { epochs, batchSize, stepsPerEpoch: Math.ceil(steps / epochs) });
  moco.dispose();
  log(`trained ${events.length} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const evaluation = options.evaluate === false ? undefined : await evaluateEncoder({ encoder, train, test, probe: false });
  encoder.dispose();
  return { steps: events, numTensors, evaluation, seconds: (performance.now() - started) / 1000 };
}
