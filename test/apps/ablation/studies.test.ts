import test from 'ava';
import { createMoco } from '../../../src/index.js';
import { builtinPlugins } from '../../../plugins/index.js';
import { smallConvNet } from '../../../src/models/index.js';
import { ABLATION_BASE_CONFIG, STUDY_NAMES, UnknownStudyError, cellConfig, getStudy, runStudy, selectCells } from '../../../apps/ablation/index.js';
import './helpers.js';

const ids = (name: string) => getStudy(name).cells.map((c) => c.id);

test.serial('the four studies are the documented ones', (t) => {
  t.deepEqual([...STUDY_NAMES], ['mechanisms', 'momentum', 'shuffle-bn', 'queue-size']);
});

test.serial('mechanisms: end-to-end at batch 64/128/256 (K = batch − 1), memory bank and MoCo at K 256/1024/4096', (t) => {
  const study = getStudy('mechanisms');
  t.deepEqual(ids('mechanisms'), [
    'end-to-end-b64', 'end-to-end-b128', 'end-to-end-b256',
    'memory-bank-k256', 'memory-bank-k1024', 'memory-bank-k4096',
    'moco-k256', 'moco-k1024', 'moco-k4096',
  ]);
  const e2e = study.cells.filter((c) => c.series === 'end-to-end');
  t.deepEqual(e2e.map((c) => [c.batchSize, c.negatives]), [[64, 63], [128, 127], [256, 255]]);
  for (const c of e2e) {
    const config = cellConfig(c, 0) as Record<string, any>;
    t.is(config.preset, 'end-to-end');
    t.deepEqual(config.dictionary, { id: 'in-batch' });
    t.deepEqual(config.update, { id: 'shared' });
    // Linear lr scaling with the batch, from the base's 0.06 at 256.
    t.is(config.optimizer.learningRate, (0.06 * c.batchSize) / 256);
  }
  const bank = study.cells.filter((c) => c.series === 'memory bank');
  t.deepEqual(bank.map((c) => (cellConfig(c, 0) as Record<string, any>).dictionary), [256, 1024, 4096].map((k) => ({ id: 'memory-bank', negatives: k, bankMomentum: 0.5 })));
  t.true(bank.every((c) => c.batchSize === 256 && (cellConfig(c, 0) as Record<string, any>).preset === 'memory-bank'));
  const moco = study.cells.filter((c) => c.series === 'MoCo');
  t.deepEqual(moco.map((c) => (cellConfig(c, 0) as Record<string, any>).dictionary), [256, 1024, 4096].map((k) => ({ id: 'queue', size: k })));
});

test.serial('momentum: m 0, 0.9, 0.99, 0.999 over the base recipe (queue 4096, Shuffle BN, batch 256)', (t) => {
  const cells = getStudy('momentum').cells;
  t.deepEqual(cells.map((c) => (cellConfig(c, 3) as Record<string, any>).update), [0, 0.9, 0.99, 0.999].map((m) => ({ id: 'momentum', keyEncoderMomentum: m, schedule: 'constant' })));
  for (const c of cells) {
    const config = cellConfig(c, 3) as Record<string, any>;
    t.is(config.seed, 3);
    t.deepEqual(config.dictionary, ABLATION_BASE_CONFIG.dictionary);
    t.deepEqual(config.normalization, ABLATION_BASE_CONFIG.normalization);
    t.is(c.batchSize, 256);
  }
});

test.serial('shuffle-bn: Shuffle BN, plain BN and split BN without shuffle, with a timeline', (t) => {
  const study = getStudy('shuffle-bn');
  t.true(study.timeline);
  t.deepEqual(study.cells.map((c) => (cellConfig(c, 0) as Record<string, any>).normalization), [{ id: 'shuffle-bn', groups: 8 }, { id: 'batchnorm' }, { id: 'split-bn', groups: 8 }]);
});

test.serial('queue-size: K 256, 1024, 4096, 16384', (t) => {
  t.deepEqual(getStudy('queue-size').cells.map((c) => (cellConfig(c, 0) as Record<string, any>).dictionary), [256, 1024, 4096, 16384].map((k) => ({ id: 'queue', size: k })));
  t.false(getStudy('queue-size').timeline);
});

test.serial('every cell of every study is a config createMoco accepts for the default encoder', (t) => {
  const backbone = smallConvNet({ seed: 0 });
  for (const name of STUDY_NAMES) {
    for (const cell of getStudy(name).cells) {
      t.notThrows(() => createMoco({ backbone, plugins: builtinPlugins, config: cellConfig(cell, 0) }).dispose(), `${name}/${cell.id}`);
    }
  }
  backbone.dispose();
});

test.serial('a bad study name is an error listing the studies; a bad cell lists the cells', async (t) => {
  const e = t.throws(() => getStudy('momentun'), { instanceOf: UnknownStudyError });
  t.is(e!.message, "unknown study 'momentun'; the studies are: mechanisms, momentum, shuffle-bn, queue-size");
  const r = await t.throwsAsync(runStudy('nope', { backend: 'current', plugins: builtinPlugins }), { instanceOf: UnknownStudyError });
  t.regex(r!.message, /mechanisms, momentum, shuffle-bn, queue-size/);
  t.throws(() => selectCells(getStudy('momentum'), ['m0', 'm5']), { message: /unknown cell 'm5'; its cells are: m0, m0\.9, m0\.99, m0\.999/ });
  t.deepEqual(selectCells(getStudy('momentum'), ['m0.99', 'm0']).map((c) => c.id), ['m0', 'm0.99']);
});
