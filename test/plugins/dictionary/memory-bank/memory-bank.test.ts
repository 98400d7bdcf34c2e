import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, useCpu } from '../../../helpers/tf.js';
import { randomImages, tinyBackbone } from '../../../helpers/tiny.js';
import { ConfigError, Random, createMoco, type MocoEvent, type SetupContext, type StepContext } from '../../../../src/index.js';
import { MemoryBankDictionary, builtinPlugins } from '../../../../plugins/index.js';

await useCpu();
const ctx = (seed = 0): StepContext => ({ epoch: 0, step: 0, progress: 0, random: new Random(seed) });

function setupBank(n: number, dim = 2, negatives = 3, momentum = 0.5, warnings: string[] = []): MemoryBankDictionary {
  const bank = new MemoryBankDictionary({ negatives, bankMomentum: momentum }, new Random(5), { warn: (m) => warnings.push(m) });
  const setup: SetupContext = { dim, batchSize: 2, datasetSize: n };
  bank.setup(setup);
  return bank;
}
/** Put known rows into the bank through its checkpoint path. */
function withRows(bank: MemoryBankDictionary, rows: number[][]): void {
  bank.loadState({ tensors: { bank: tf.tensor2d(rows) }, values: { filled: 0, written: [] } });
}
const rows = (t: tf.Tensor) => (t.arraySync() as number[][]).map((r) => r.map((v) => +v.toFixed(5)));

test('the bank starts as one random unit vector per image and needs the data-set size', (t) => {
  const bank = setupBank(6, 3);
  t.deepEqual(bank.entries.shape, [6, 3]);
  for (const n of tf.norm(bank.entries, 2, 1).dataSync()) t.true(Math.abs(n - 1) < 1e-5);
  t.deepEqual(bank.stats(), { size: 6, filled: 0 });
  bank.dispose();
  const noSize = new MemoryBankDictionary({ negatives: 4, bankMomentum: 0.5 }, new Random(0), { warn: () => {} });
  t.throws(() => noSize.setup({ dim: 2, batchSize: 2 }), {
    message: /memory-bank' needs the data set's size.*pass datasetSize to fit, e\.g\. fit\(ds, \{ epochs, datasetSize/,
  });
  const warnings: string[] = [];
  setupBank(3, 2, 10, 0.5, warnings).dispose();
  t.regex(warnings[0], /negatives 10 exceeds the 3 slots.*with replacement/);
});

test('positives are the stored rows of the given indices; no encoder is involved', (t) => {
  const bank = setupBank(4);
  withRows(bank, [[1, 0], [0, 1], [0.6, 0.8], [-1, 0]]);
  const pos = bank.positives(tf.tensor1d([2, 0, 2], 'int32'));
  t.deepEqual(rows(pos), [[0.6, 0.8], [1, 0], [0.6, 0.8]]);
  t.throws(() => bank.positives(tf.tensor1d([1, 4], 'int32')), { message: /image index 4 is outside the bank's 4 slots.*0\.\.3/ });
  bank.dispose();
});

test('negatives: K slots drawn uniformly from the bank (seeded), shared by the batch, similarity q · slot', (t) => {
  const bank = setupBank(5, 2, 7);
  withRows(bank, [[1, 0], [0, 1], [0.6, 0.8], [-1, 0], [0, -1]]);
  const q = tf.tensor2d([[1, 0], [0.8, 0.6]]);
  const sims = bank.negativeSimilarities(q, q, ctx(11));
  t.deepEqual(sims.shape, [2, 7]);
  const drawn = Array.from(bank.lastSampled);
  t.is(drawn.length, 7);
  t.true(drawn.every((i) => Number.isInteger(i) && i >= 0 && i < 5), `drawn ${drawn}`);
  // The same seed draws the same slots: the host generator, not tfjs' global RNG.
  const again = new Random(11);
  t.deepEqual(drawn, drawn.map(() => again.int(5)));
  // Every column is q · (the drawn slot), for every query: one draw serves the whole batch.
  const expected = tf.matMul(q, tf.gather(bank.entries, tf.tensor1d(drawn, 'int32')), false, true);
  t.true(maxAbsDiff(sims, expected) < 1e-6);
  const slot = drawn[0];
  const byHand = [[1, 0], [0, 1], [0.6, 0.8], [-1, 0], [0, -1]][slot];
  t.true(Math.abs(sims.arraySync()[1][0] - (0.8 * byHand[0] + 0.6 * byHand[1])) < 1e-6);
  bank.dispose();
});

test('update: each used slot ← normalize(0.5·old + 0.5·q), other slots untouched (by hand)', (t) => {
  const bank = setupBank(4);
  withRows(bank, [[1, 0], [0, 1], [0, 1], [-1, 0]]);
  bank.update({ queries: tf.tensor2d([[0, 1], [0.6, 0.8]]), keys: tf.zeros([2, 2]) as tf.Tensor2D, indices: tf.tensor1d([0, 2], 'int32') });
  // slot 0: 0.5·[1,0] + 0.5·[0,1] = [0.5,0.5] → [0.70711, 0.70711]
  // slot 2: 0.5·[0,1] + 0.5·[0.6,0.8] = [0.3,0.9], |·| = √0.9 → [0.31623, 0.94868]
  t.deepEqual(rows(bank.entries), [[0.70711, 0.70711], [0, 1], [0.31623, 0.94868], [-1, 0]]);
  t.deepEqual(bank.stats(), { size: 4, filled: 2 });
  // μ is an option: μ = 0 overwrites the slot with the query.
  const overwrite = setupBank(2, 2, 1, 0);
  overwrite.update({ queries: tf.tensor2d([[0.6, 0.8]]), keys: tf.zeros([1, 2]) as tf.Tensor2D, indices: tf.tensor1d([1], 'int32') });
  t.deepEqual(rows(overwrite.entries)[1], [0.6, 0.8]);
  bank.dispose();
  overwrite.dispose();
});

test('update: an index twice in one batch updates its slot once, with the mean of its queries', (t) => {
  const bank = setupBank(4);
  withRows(bank, [[1, 0], [-1, 0], [0, 1], [0, -1]]);
  bank.update({ queries: tf.tensor2d([[1, 0], [0.6, 0.8], [0, 1]]), keys: tf.zeros([3, 2]) as tf.Tensor2D, indices: tf.tensor1d([1, 3, 1], 'int32') });
  // slot 1: mean q = [0.5, 0.5]; 0.5·[−1,0] + 0.5·[0.5,0.5] = [−0.25, 0.25] → [−0.70711, 0.70711]
  // slot 3: 0.5·[0,−1] + 0.5·[0.6,0.8] = [0.3, −0.1], |·| = √0.1 → [0.94868, −0.31623]
  t.deepEqual(rows(bank.entries), [[1, 0], [-0.70711, 0.70711], [0, 1], [0.94868, -0.31623]]);
  t.deepEqual(bank.stats(), { size: 4, filled: 2 }, 'two distinct slots filled');
  bank.dispose();
});

test('state round-trips the bank and which slots are real', (t) => {
  const a = setupBank(3);
  a.update({ queries: tf.tensor2d([[0, 1]]), keys: tf.zeros([1, 2]) as tf.Tensor2D, indices: tf.tensor1d([2], 'int32') });
  const b = setupBank(3);
  b.loadState(a.state());
  t.deepEqual(rows(b.entries), rows(a.entries));
  t.deepEqual(b.stats(), { size: 3, filled: 1 });
  b.update({ queries: tf.tensor2d([[0, 1]]), keys: tf.zeros([1, 2]) as tf.Tensor2D, indices: tf.tensor1d([2], 'int32') });
  t.deepEqual(b.stats(), { size: 3, filled: 1 }, 'slot 2 was already counted');
  t.throws(() => setupBank(5).loadState(a.state()), { message: /memory-bank checkpoint holds a \[3,2\] bank; this run has \[5,2\]/ });
  a.dispose();
  b.dispose();
});

test.serial('negatives and updates leak no tensors', (t) => {
  const bank = setupBank(20, 4, 8);
  const q = tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
  const idx = tf.tensor1d([3, 7, 3], 'int32');
  const c = ctx();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    tf.dispose([bank.negativeSimilarities(q, q, c), bank.positives(idx)]);
    bank.update({ queries: q, keys: q, indices: idx });
  }
  t.is(tf.memory().numTensors, before);
  bank.dispose();
});

// crop-flip: tiny grayscale images; the presets' own augmentation is another plugin's concern.
const memoryBankConfig = { preset: 'memory-bank', dictionary: { negatives: 16 }, normalization: { groups: 2 }, head: { dim: 8 }, augmentation: 'crop-flip' };

test.serial('the memory-bank preset trains end to end: finite loss, no key encoder, flat numTensors, the bank fills', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'mb'), plugins: builtinPlugins, config: memoryBankConfig });
  t.like(moco.config, { dictionary: { id: 'memory-bank', negatives: 16, bankMomentum: 0.5 }, loss: { id: 'infonce', temperature: 0.07 } });
  const steps: Extract<MocoEvent, { type: 'step' }>[] = [];
  const counts: number[] = [];
  moco.on('step').subscribe((e) => {
    steps.push(e);
    counts.push(tf.memory().numTensors);
  });
  await moco.fit(randomImages(12), { epochs: 2, batchSize: 4 });
  t.is(moco.keyEncoder, undefined, 'no key encoder is built');
  t.is(steps.length, 6);
  for (const s of steps) {
    t.true(Number.isFinite(s.loss) && s.loss > 0, `loss ${s.loss}`);
    t.is(s.keyEncoderMomentum, undefined);
    t.is(s.dictionarySize, 12);
  }
  t.deepEqual(steps.slice(0, 3).map((s) => s.dictionaryFill), [4 / 12, 8 / 12, 1]);
  t.is(counts[5], counts[1], `numTensors at step 2: ${counts[1]}, at step 6: ${counts[5]}`);
  moco.dispose();
});

test.serial('the trainer refuses a memory bank without indices at the first step', async (t) => {
  const moco = createMoco({ backbone: tinyBackbone(8, 1, 4, 'mbi'), plugins: builtinPlugins, config: memoryBankConfig });
  const imagesOnly = randomImages(8).map((e) => (e as { xs: tf.Tensor3D }).xs);
  let steps = 0;
  moco.on('step').subscribe(() => steps++);
  await t.throwsAsync(moco.fit(imagesOnly, { epochs: 1, batchSize: 4 }), { message: /dictionary 'memory-bank' needs each image's data-set index: give fit\(\) a dataset of \{xs, index\} elements/ });
  t.is(steps, 0);
  moco.dispose();
});

test('config refusals name the reason: shared, a symmetric loss, Shuffle BN', (t) => {
  const make = (config: Record<string, unknown>) => () => createMoco({ backbone: tinyBackbone(8, 1, 4, 'mbr'), plugins: builtinPlugins, config });
  const shared = t.throws(make({ preset: 'memory-bank', update: 'shared' }), { instanceOf: ConfigError });
  t.regex(shared!.message, /dictionary: 'memory-bank' cannot be used here: .*no encoder computes keys.*'shared' would silently do nothing/);
  t.throws(make({ preset: 'memory-bank', loss: { symmetric: true } }), { message: /'memory-bank' cannot be used here: a symmetric loss swaps the two views.*set loss\.symmetric to false/ });
  t.throws(make({ dictionary: 'memory-bank' }), { message: /'memory-bank' cannot be used here: Shuffle BN shuffles the key encoder's batch.*no key encoder/ });
});
