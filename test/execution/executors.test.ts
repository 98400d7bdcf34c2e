// The executors run the same step: by hand, through the public API, a micro-batch executor whose limit holds the
// whole batch trains bit for bit as the one-thread executor, and neither leaves tensors behind.
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../helpers/tf.js';
import { tinyBackbone } from '../helpers/tiny.js';
import { createMoco, MicroBatchExecutor, OneThreadExecutor, Random, type StepExecutor } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();

async function train(makeExecutor: (moco: ReturnType<typeof createMoco>) => StepExecutor, microBatch = 0) {
  const moco = createMoco({
    backbone: tinyBackbone(8, 1, 4, 'ex', 6),
    plugins: builtinPlugins,
    config: { seed: 9, microBatch, head: { dim: 8 }, dictionary: { size: 16 }, normalization: { id: 'shuffle-bn', groups: 2 }, loss: { temperature: 0.2 } },
  });
  await moco.build();
  moco.prepareDictionary({ batchSize: 8 });
  const executor = makeExecutor(moco);
  const random = new Random(3);
  const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
  const losses: number[] = [];
  const batches: number[] = [];
  const tensors: number[] = [];
  for (let step = 0; step < 4; step++) {
    const result = await executor.run({ images }, { epoch: 0, step, progress: step / 4, random }, 0.05);
    batches.push(result.batch);
    losses.push(result.loss);
    tensors.push(tf.memory().numTensors);
  }
  await executor.dispose();
  images.dispose();
  const weights = moco.queryEncoder!.trainableWeights.map((w) => tf.clone(w.read()));
  const queue = tf.clone(moco.strategies.dictionary.state!().tensors.queue);
  moco.dispose();
  return { losses, batches, tensors, weights, queue };
}

test.serial('a micro-batch executor whose limit holds the batch trains bit for bit as the one-thread executor', async (t) => {
  const one = await train((m) => new OneThreadExecutor(m.trainingStep!));
  const micro = await train((m) => new MicroBatchExecutor(m.trainingStep!, 8), 8);
  t.deepEqual(one.batches, [8, 8, 8, 8]);
  t.deepEqual(micro.losses, one.losses);
  t.is(Math.max(...one.weights.map((w, i) => maxAbsDiff(w, micro.weights[i]))), 0);
  t.is(maxAbsDiff(one.queue, micro.queue), 0);
  // The steps trained: the loss moved and the weights are not the initial ones.
  t.true(new Set(one.losses).size > 1, `losses ${one.losses.join(', ')}`);
  t.true(maxAbsDiff(one.weights[0], tinyBackbone(8, 1, 4, 'ex0', 6).trainableWeights[0].read()) > 1e-4);
  // Each step's tensors are freed by the next one.
  t.is(one.tensors[3], one.tensors[1], `one thread, numTensors by step: ${one.tensors.join(', ')}`);
  tf.dispose([...one.weights, ...micro.weights, one.queue, micro.queue]);
});

test.serial('a micro-batch executor splitting the batch leaves no tensor behind either', async (t) => {
  const micro = await train((m) => new MicroBatchExecutor(m.trainingStep!, 3), 3);
  t.is(micro.tensors[3], micro.tensors[1], `numTensors by step: ${micro.tensors.join(', ')}`);
  t.true(micro.losses.every(Number.isFinite));
  tf.dispose([...micro.weights, micro.queue]);
});
