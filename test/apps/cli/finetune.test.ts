import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { saveModel } from '../../../src/checkpoint/model-files.js';
import { tinyBackbone } from '../../helpers/tiny.js';
import { meanSd, parseCounts } from '../../../apps/cli/finetune.js';
import { cli, writeIdxFolder } from './helpers.js';

const root = await mkdtemp(join(tmpdir(), 'tfjs-moco-finetune-'));
const dataDir = join(root, 'idx');
const encoderDir = join(root, 'encoder');

test.before(async () => {
  await tf.setBackend('cpu');
  await writeIdxFolder(dataDir, 48, 32);
  const encoder = tinyBackbone(8, 1, 4, 'ft_cli', 2);
  await saveModel(encoder, encoderDir);
  encoder.dispose();
});

test('mean ± sample sd, and the label counts parsed with an error naming the flag', (t) => {
  const { mean, sd } = meanSd([0.5, 0.7, 0.9]);
  t.true(Math.abs(mean - 0.7) < 1e-12);
  t.true(Math.abs(sd - 0.2) < 1e-12);
  t.is(meanSd([0.4]).sd, 0);
  t.deepEqual(parseCounts('60, 600'), [60, 600]);
  t.throws(() => parseCounts('60,x'), { message: /--labels-per-class: expected whole numbers ≥ 1 separated by commas/ });
});

test.serial('finetune reports pretrained, random-init and probe accuracies per count over the seeds', async (t) => {
  const r = await cli(['finetune', '--encoder', encoderDir, '--data', `idx:${dataDir}`, '--labels-per-class', '2,6', '--seeds', '2', '--steps', '6', '--batch-size', '8', '--backend', 'cpu', '--json']);
  t.is(r.code, 0, r.err);
  const out = JSON.parse(r.out) as { rows: { labelsPerClass: number; labels: number; pretrained: number[]; randomInit: number[]; linearProbe: number[] }[]; testCount: number };
  t.is(out.testCount, 32);
  t.deepEqual(out.rows.map((row) => [row.labelsPerClass, row.labels]), [[2, 8], [6, 24]]);
  for (const row of out.rows) {
    for (const series of [row.pretrained, row.randomInit, row.linearProbe]) {
      t.is(series.length, 2, 'one accuracy per seed');
      for (const a of series) t.true(a >= 0 && a <= 1 && Math.round(a * 32) === a * 32, `accuracy ${a} is a fraction of the 32 test images`);
    }
  }
  const table = await cli(['finetune', '--encoder', encoderDir, '--data', `idx:${dataDir}`, '--labels-per-class', '2', '--seeds', '1', '--steps', '2', '--batch-size', '8', '--backend', 'cpu', '--no-probe']);
  t.is(table.code, 0, table.err);
  t.regex(table.out, /^2\s+8\s+\d+\.\d\d ± 0\.00 %\s+\d+\.\d\d ± 0\.00 %\s+n\/a$/m);
  t.regex(table.out, /^2 labels\/class: pretraining (beats|is ahead of, but within the seed spread of,|does not beat) random init/m);
});

test('finetune refuses a folder without model.json, naming the flag', async (t) => {
  const r = await cli(['finetune', '--encoder', join(root, 'nothing'), '--data', `idx:${dataDir}`, '--backend', 'cpu']);
  t.is(r.code, 1);
  t.regex(r.err, /--encoder .*nothing: no model\.json there/);
});
