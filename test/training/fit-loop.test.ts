import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { config as rxConfig } from 'rxjs';
import { useCpu } from '../helpers/tf.js';
import { randomImages, tinyBackbone } from '../helpers/tiny.js';
import { ConfigError, SubscriberError, createMoco, type MocoEvent } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/index.js';

await useCpu();
const small = { dictionary: { size: 32 }, normalization: { groups: 2 } };

test.serial('tf.memory().numTensors is the same after step 5 and step 200', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'mem'), plugins: builtinPlugins, config: small });
  const counts = new Map<number, number>();
  moco.on('step').subscribe((e) => counts.set(e.step, tf.memory().numTensors));
  await moco.fit(randomImages(40), { epochs: 20, batchSize: 4 });
  t.is(counts.size, 200);
  t.is(counts.get(199), counts.get(4), `step 5: ${counts.get(4)}, step 200: ${counts.get(199)}`);
  moco.dispose();
});

test.serial('events: run-started, one step per batch (short last batch included), epoch-ended, run-ended', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'ev'), plugins: builtinPlugins, config: small });
  const events: MocoEvent[] = [];
  moco.events$.subscribe((e) => events.push(e));
  await moco.fit(randomImages(10), { epochs: 2, batchSize: 4 });
  const types = events.map((e) => e.type);
  // K = 32 exceeds the 10 images: the queue warns once (own-image false negatives), then trains.
  t.deepEqual(types, ['run-started', 'warning', 'step', 'step', 'step', 'epoch-ended', 'step', 'step', 'step', 'epoch-ended', 'run-ended']);
  const start = events[0] as Extract<MocoEvent, { type: 'run-started' }>;
  t.is(start.backend, 'cpu');
  t.is(start.totalSteps, 6);
  t.like(start.config, { dictionary: { id: 'queue', size: 32 } });
  const steps = events.filter((e): e is Extract<MocoEvent, { type: 'step' }> => e.type === 'step');
  t.deepEqual(steps.map((s) => s.batchSize), [4, 4, 2, 4, 4, 2]);
  t.deepEqual(steps.map((s) => s.dictionaryFill), [4, 8, 10, 14, 18, 20].map((n) => n / 32));
  for (const s of steps) {
    t.true(Number.isFinite(s.loss) && s.loss > 0);
    t.true(s.pretextAccuracy >= 0 && s.pretextAccuracy <= 1);
    t.is(s.keyEncoderMomentum, 0.999);
    t.true(s.imagesPerSecond > 0);
  }
  t.like(events.at(-1), { type: 'run-ended', reason: 'completed', steps: 6, epochs: 2 });
  moco.dispose();
});

test.serial('a subscriber that throws stops the run with a SubscriberError, an error event, and no leaked tensors', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'thr'), plugins: builtinPlugins, config: small });
  let atStep2 = 0;
  const seen: string[] = [];
  moco.events$.subscribe((e) => {
    seen.push(e.type);
    if (e.type === 'step' && e.step === 1) atStep2 = tf.memory().numTensors;
  });
  moco.on('step').subscribe((e) => {
    if (e.step === 2) throw new Error('boom in my dashboard');
  });
  const err = await t.throwsAsync(moco.fit(randomImages(40), { epochs: 5, batchSize: 4 }), { instanceOf: SubscriberError });
  t.regex(err!.message, /events\$ subscriber threw after a 'step' event: boom in my dashboard/);
  t.is(seen.filter((s) => s === 'step').length, 3, 'the run stopped at the next step boundary');
  t.is(seen.at(-1), 'error');
  t.is(tf.memory().numTensors, atStep2, 'nothing of the interrupted step is left');
  t.is(rxConfig.onUnhandledError, null, 'the rxjs hook is restored');
  moco.dispose();
});

test.serial('stop() ends the run after the current step; fit resolves with the trained backbone', async (t) => {
  const backbone = tinyBackbone(8, 1, 4, 'stop');
  const before = backbone.getWeights().map((w) => Array.from(w.dataSync()));
  const moco = createMoco({ backbone, plugins: builtinPlugins, config: small });
  let ended: MocoEvent | undefined;
  moco.on('step').subscribe((e) => e.step === 2 && moco.stop());
  moco.on('run-ended').subscribe((e) => (ended = e));
  const trained = await moco.fit(randomImages(40), { epochs: 5, batchSize: 4 });
  t.is(trained, backbone);
  t.like(ended, { reason: 'stopped', steps: 3 });
  t.notDeepEqual(backbone.getWeights().map((w) => Array.from(w.dataSync())), before, 'trained weights were copied into the backbone');
  moco.dispose();
});

test.serial('endAfter() during fit: the run completes after that step, closing its epoch, and the lr schedule ends there', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'end'), plugins: builtinPlugins, config: { ...small, optimizer: { schedule: 'cosine' } } });
  const steps: Array<Extract<MocoEvent, { type: 'step' }>> = [];
  const types: string[] = [];
  moco.events$.subscribe((e) => types.push(e.type));
  moco.on('step').subscribe((e) => {
    steps.push(e);
    if (e.step === 4) moco.endAfter(23); // 40 images of batch 4: 10 steps an epoch, 50 planned
  });
  let ended: MocoEvent | undefined;
  moco.on('run-ended').subscribe((e) => (ended = e));
  await moco.fit(randomImages(40), { epochs: 5, batchSize: 4 });
  t.like(ended, { reason: 'completed', steps: 23, epochs: 3 });
  t.is(types.filter((x) => x === 'epoch-ended').length, 3, 'epochs 1, 2 and the cut third are closed');
  t.is(steps.at(-1)!.progress, 1, 'progress reaches 1 at the new end');
  // Cosine: before the revision the lr follows the 50-step plan, afterwards the 23-step one, ending near 0.
  t.true(steps[4].learningRate > steps[5].learningRate + 1e-4, `${steps[4].learningRate} → ${steps[5].learningRate}`);
  t.true(steps.at(-1)!.learningRate < 0.01 * steps[0].learningRate, `last lr ${steps.at(-1)!.learningRate}`);
  t.throws(() => moco.endAfter(0), { message: /endAfter: step must be a whole number >= 1/ });
  // The revision was for that fit only: the next fit continues to its own plan's end (epochs 4 and 5).
  await moco.fit(randomImages(40), { epochs: 5, batchSize: 4 });
  t.is(moco.position.step, 43);
  moco.dispose();
});

test.serial('fit options are validated with the field named', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'fo'), plugins: builtinPlugins, config: small });
  await t.throwsAsync(moco.fit(randomImages(4), { epochs: 0, batchSize: 4 }), { instanceOf: ConfigError, message: /fit\.epochs: .*>=\s*1.*\(got 0\)/ });
  await t.throwsAsync(moco.fit(randomImages(4), { epochs: 1, batchSize: 1 }), { message: /fit\.batchSize/ });
  await t.throwsAsync(moco.fit(randomImages(4), { epochs: 1, batchSize: 64 }), { message: /dictionary\.size: the queue \(32\) must hold at least one batch \(64\)/ });
  moco.dispose();
});

test.serial('the same seed repeats a run exactly', async (t) => {
  const weights = tinyBackbone(8, 1, 4, 'seed').getWeights();
  const run = async () => {
    const backbone = tinyBackbone(8, 1, 4, 'seed');
    backbone.setWeights(weights);
    const moco = createMoco({ backbone, plugins: builtinPlugins, config: { ...small, seed: 7 } });
    await moco.build();
    const losses: number[] = [];
    moco.on('step').subscribe((e) => losses.push(e.loss));
    await moco.fit(randomImages(12), { epochs: 1, batchSize: 4 });
    moco.dispose();
    return losses;
  };
  t.deepEqual(await run(), await run());
});

test.serial('a run followed by dispose() leaves no tensor behind (linear and MLP heads)', async (t) => {
  const backbone = tinyBackbone(8, 1, 4, 'disp');
  const data = randomImages(8);
  const before = tf.memory().numTensors;
  for (const type of ['linear', 'mlp'] as const) {
    const moco = createMoco({ backbone, plugins: builtinPlugins, config: { ...small, head: { type, hidden: 16 } } });
    await moco.fit(data, { epochs: 1, batchSize: 4 });
    moco.dispose();
    t.is(tf.memory().numTensors, before, `${type} head`);
  }
});
