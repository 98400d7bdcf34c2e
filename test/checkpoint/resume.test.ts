import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { readdir } from 'node:fs/promises';
import { useCpu } from '../helpers/tf.js';
import { createMoco, resumableImageDataset, resumeMoco, type MocoEvent } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { fixedBackbone, maxSnapshotDiff, snapshot, tempDir, tinyImageSet } from './helpers.js';

await useCpu();
// K = 8 ≤ the 10 images; 2 Shuffle-BN groups for batches of 4 (and the short last batch of 2).
const config = { seed: 3, dictionary: { size: 8 }, normalization: { groups: 2 }, optimizer: { schedule: 'cosine' as const } };
const set = tinyImageSet(10);
// 10 images in batches of 4: 3 steps per epoch (4, 4, 2), 3 epochs: N = 9 steps. Shuffled per epoch.
const fitOptions = { epochs: 3, batchSize: 4 };
const data = () => resumableImageDataset(set, { seed: 11 });

test.serial('resume: N/2 steps, checkpoint, dispose, resume from disk, N/2 more = N steps straight (losses and weights)', async (t) => {
  const dir = await tempDir('resume');
  try {
    // What creating and disposing a run costs in tensors by itself (independent of checkpoints), to compare with.
    let before = tf.memory().numTensors;
    const throwaway = fixedBackbone('ck');
    const probe = createMoco({ backbone: throwaway, plugins: builtinPlugins, config });
    await probe.build();
    probe.dispose();
    throwaway.dispose();
    const runOverhead = tf.memory().numTensors - before;

    // A: the uninterrupted run.
    const backboneA = fixedBackbone('ck');
    const a = createMoco({ backbone: backboneA, plugins: builtinPlugins, config });
    const lossesA: number[] = [];
    a.on('step').subscribe((e) => lossesA.push(e.loss));
    await a.fit(data(), fitOptions);
    const finalA = await snapshot(a);
    a.dispose();
    backboneA.dispose();
    t.is(lossesA.length, 9);

    // B: the same run, stopped after 4 steps (mid-epoch 1), saved, thrown away.
    const backboneB = fixedBackbone('ck');
    const b = createMoco({ backbone: backboneB, plugins: builtinPlugins, config });
    const lossesB: number[] = [];
    b.on('step').subscribe((e) => {
      lossesB.push(e.loss);
      if (e.step === 3) b.stop();
    });
    await b.fit(data(), fitOptions);
    before = tf.memory().numTensors;
    const info = await b.saveCheckpoint(dir.path);
    t.is(tf.memory().numTensors, before, 'saving keeps no tensor');
    t.like(info, { epoch: 1, stepInEpoch: 1, step: 4 });
    b.dispose();
    backboneB.dispose();
    t.deepEqual(lossesB, lossesA.slice(0, 4), 'the first half is the same run');

    // C: a fresh run from disk (a new backbone with other weights: all of them come from the checkpoint).
    before = tf.memory().numTensors;
    const c = await resumeMoco(dir.path, { plugins: builtinPlugins });
    t.like(c.position, { epoch: 1, stepInEpoch: 1, step: 4 });
    t.deepEqual(c.plan, { epochs: 3, batchSize: 4, stepsPerEpoch: 3, datasetSize: 10, totalSteps: 9 });
    const events: MocoEvent[] = [];
    c.events$.subscribe((e) => events.push(e));
    await c.fit(data(), fitOptions);
    const lossesC = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
    t.deepEqual(events.flatMap((e) => (e.type === 'step' ? [e.step] : [])), [4, 5, 6, 7, 8]);
    t.like(events[0], { type: 'run-started', startStep: 4, startEpoch: 1 });
    const lossDiff = Math.max(...lossesC.map((l, i) => Math.abs(l - lossesA[4 + i])));
    const weightDiff = maxSnapshotDiff(await snapshot(c), finalA);
    t.log(`max |loss diff| ${lossDiff}, max |weight diff| ${weightDiff} (query, key, optimizer, queue, backbone)`);
    t.true(lossDiff <= 1e-6, `losses differ by ${lossDiff}`);
    t.true(weightDiff <= 1e-6, `weights differ by ${weightDiff}`);
    const backboneC = c.backbone;
    c.dispose();
    backboneC.dispose();
    t.is(tf.memory().numTensors - before, runOverhead, 'loading a checkpoint leaves nothing behind beyond what any run does');
  } finally {
    await dir.cleanup();
  }
});

test.serial('fit({checkpointDir, checkpointEvery}) saves on schedule after epoch tasks; a step save due at an epoch end waits for it', async (t) => {
  const dir = await tempDir('every');
  try {
    const backbone = fixedBackbone('ev');
    const moco = createMoco({ backbone, plugins: builtinPlugins, config });
    const seen: string[] = [];
    moco.events$.subscribe((e) => {
      if (e.type === 'step') seen.push(`step ${e.step}`);
      if (e.type === 'epoch-ended') seen.push(`epoch-ended ${e.epoch}`);
      if (e.type === 'evaluation') seen.push(`evaluation ${e.epoch}`);
      if (e.type === 'checkpoint-saved') seen.push(`checkpoint ${e.epoch}/${e.step}`);
      if (e.type === 'run-ended') seen.push('run-ended');
    });
    let taskRuns = 0;
    moco.addEpochTask(async (ctx) => {
      await new Promise((r) => setTimeout(r, 20)); // training waits for this
      taskRuns++;
      ctx.emit({ type: 'evaluation', epoch: ctx.epoch, step: ctx.step, metric: 'test', accuracy: 0.5 });
    });
    await moco.fit(data(), { epochs: 2, batchSize: 4, checkpointDir: dir.path, checkpointEvery: { steps: 2 } });
    t.is(taskRuns, 2);
    t.deepEqual(seen, [
      'step 0', 'step 1', 'checkpoint 0/2',
      'step 2', 'epoch-ended 0', 'evaluation 0',
      'step 3', 'checkpoint 1/4',
      'step 4', 'step 5', 'epoch-ended 1', 'evaluation 1', 'checkpoint 2/6',
      'run-ended',
    ]);
    const files = (await readdir(dir.path)).sort();
    t.is(files.length, 2);
    t.regex(files.join(' '), /^data-[a-z0-9]+\.bin manifest\.json$/);
    moco.dispose();
    backbone.dispose();
    await t.throwsAsync(
      createMoco({ backbone: fixedBackbone('ev2'), plugins: builtinPlugins, config }).fit(data(), { epochs: 1, batchSize: 4, checkpointEvery: { epochs: 1 } }),
      { message: /fit\.checkpointEvery: needs fit\.checkpointDir/ },
    );
  } finally {
    await dir.cleanup();
  }
});

test.serial('stop() at an epoch\'s last step still ends the epoch (event, tasks, checkpoint); at the last epoch\'s, the run completes', async (t) => {
  const dir = await tempDir('stop-end');
  try {
    for (const [stopAt, reason, position] of [
      [2, 'stopped', { epoch: 1, stepInEpoch: 0, step: 3 }],
      [5, 'completed', { epoch: 2, stepInEpoch: 0, step: 6 }],
    ] as const) {
      const backbone = fixedBackbone('se');
      const moco = createMoco({ backbone, plugins: builtinPlugins, config });
      const seen: string[] = [];
      moco.events$.subscribe((e) => seen.push(e.type === 'run-ended' ? `run-ended ${e.reason}` : e.type));
      moco.on('step').subscribe((e) => e.step === stopAt && moco.stop());
      moco.addEpochTask(() => void seen.push('task'));
      await moco.fit(data(), { epochs: 2, batchSize: 4, checkpointDir: dir.path });
      t.deepEqual(seen.slice(-5), ['step', 'epoch-ended', 'task', 'checkpoint-saved', `run-ended ${reason}`]);
      t.like(moco.position, position);
      moco.dispose();
      backbone.dispose();
    }
  } finally {
    await dir.cleanup();
  }
});

test.serial('saveCheckpoint refuses while a step may run (from a step event) and works from an epoch task', async (t) => {
  const dir = await tempDir('safe');
  try {
    const backbone = fixedBackbone('sf');
    const moco = createMoco({ backbone, plugins: builtinPlugins, config });
    const attempts: Promise<unknown>[] = [];
    moco.on('step').subscribe((e) => e.step === 0 && attempts.push(moco.saveCheckpoint(dir.path)));
    let saved: unknown;
    moco.addEpochTask(async () => {
      saved = await moco.saveCheckpoint(dir.path);
    });
    await moco.fit(data(), { epochs: 1, batchSize: 4 });
    await t.throwsAsync(attempts[0], { message: /saveCheckpoint: a training step may be running; call it after fit resolves or from an epoch task/ });
    t.like(saved, { epoch: 1, stepInEpoch: 0, step: 3 });
    moco.dispose();
    backbone.dispose();
  } finally {
    await dir.cleanup();
  }
});
