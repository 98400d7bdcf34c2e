import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { encoderKnn, getStudy, runCell, tailLength } from '../../../apps/ablation/index.js';
import { builtinPlugins } from '../../../plugins/index.js';
import { TINY_BASE, tinyData, tinyEncoder } from './helpers.js';

const evaluation = { train: tinyData.train, test: tinyData.test };

test.serial('a cell trains until its wall-clock budget and stops after the step that crosses it', async (t) => {
  const cell = getStudy('queue-size').cells.find((c) => c.id === 'moco-k256')!;
  const env = { train: tinyData.train, evaluation, knn: { k: 20 }, makeEncoder: tinyEncoder, baseConfig: TINY_BASE, plugins: builtinPlugins };
  // A first run pays the process's one-time costs (kernel set-up, first allocations): one step, whatever its length.
  const warm = await runCell(cell, env, { budgetSeconds: 0.001, seed: 0 });
  t.is(warm.steps, 1);
  const before = tf.memory().numTensors;
  const budgetSeconds = 3;
  const r = await runCell(cell, env, { budgetSeconds, seed: 0 });
  t.is(r.error, undefined);
  t.log(`${r.steps} steps in ${r.trainSeconds.toFixed(2)} s (wall ${r.wallSeconds.toFixed(2)} s): ${r.stepEndSeconds.map((s) => s.toFixed(2)).join(', ')}`);
  t.true(r.steps >= 2, `${r.steps} steps`);
  // The step that crossed the budget was the last one: every earlier step ended inside it.
  t.is(r.stepEndSeconds.length, r.steps);
  t.true(r.stepEndSeconds.at(-1)! >= budgetSeconds);
  t.true(r.stepEndSeconds.slice(0, -1).every((s) => s < budgetSeconds), r.stepEndSeconds.join(', '));
  t.is(r.trainSeconds, r.stepEndSeconds.at(-1)!);
  t.is(r.losses.length, r.steps);
  t.is(r.images, r.steps * tinyData.train.count); // the 128-image set is one (short) batch of 256
  t.true(r.knn > 0 && r.knn <= 1);
  t.true(r.knnRunningBn > 0 && r.knnRunningBn <= 1);
  t.true(Number.isFinite(r.finalLoss) && Number.isFinite(r.finalPretextAccuracy));
  t.is(r.tailSteps, tailLength(r.steps));
  t.deepEqual([1, 2, 5, 19, 20, 40].map(tailLength), [1, 1, 3, 10, 10, 10]);
  // Everything the run made is freed: the encoder, both MoCo encoders, the queue.
  t.is(tf.memory().numTensors, before);
});

test.serial('with the CPU clock, the budget counts the CPU seconds the process spent training', async (t) => {
  const cell = getStudy('queue-size').cells.find((c) => c.id === 'moco-k256')!;
  const env = { train: tinyData.train, evaluation, knn: { k: 20 }, makeEncoder: tinyEncoder, baseConfig: TINY_BASE, plugins: builtinPlugins };
  const r = await runCell(cell, env, { budgetSeconds: 1.5, seed: 0, clock: 'cpu' });
  t.is(r.clock, 'cpu');
  t.true(r.stepEndSeconds.at(-1)! >= 1.5);
  t.true(r.stepEndSeconds.slice(0, -1).every((s) => s < 1.5), r.stepEndSeconds.join(', '));
  t.is(r.trainCpuSeconds, r.stepEndSeconds.at(-1)!);
  t.is(r.imagesPerSecond, r.images / r.trainCpuSeconds);
});

test.serial('a cell with a timeline pauses for kNN without counting the pause as training', async (t) => {
  const cell = getStudy('shuffle-bn').cells.find((c) => c.id === 'batchnorm')!;
  const fresh = tinyEncoder(0);
  const initial = await encoderKnn(fresh, evaluation, { k: 20 }, { images: tinyData.train, batches: 1 });
  fresh.dispose();
  const r = await runCell(
    cell,
    { train: tinyData.train, evaluation, knn: { k: 20 }, makeEncoder: tinyEncoder, baseConfig: TINY_BASE, plugins: builtinPlugins },
    { budgetSeconds: 1.5, seed: 0, timeline: { ...evaluation, points: 3, initialKnn: initial } },
  );
  t.is(r.error, undefined);
  t.deepEqual(r.timeline[0], { step: 0, trainSeconds: 0, loss: NaN, pretextAccuracy: NaN, ...initial });
  // The points during training (up to points − 1 of them) and the one after the budget.
  t.true(r.timeline.length >= 2 && r.timeline.length <= 4, `${r.timeline.length} points`);
  const last = r.timeline.at(-1)!;
  t.is(last.step, r.steps);
  t.true(r.timeline.every((p, i) => i === 0 || (p.step > r.timeline[i - 1].step && p.knn >= 0 && p.knn <= 1 && p.knnRunningBn >= 0 && p.knnRunningBn <= 1)));
  t.true(r.wallSeconds > r.trainSeconds);
});
