import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STUDY_CSV_COLUMNS, TIMELINE_CSV_COLUMNS, readStudyReport, runStudy } from '../../../apps/ablation/index.js';
import { parseCsv, tinyStudyOptions } from './helpers.js';

const root = await mkdtemp(join(tmpdir(), 'tfjs-moco-ablation-'));
test.after.always(() => rm(root, { recursive: true, force: true }));

test.serial('a 2-cell study writes the markdown table, a CSV with one row per cell, and the SVG plot', async (t) => {
  const out = join(root, 'momentum');
  const logs: string[] = [];
  const budgetMinutes = 0.05; // 3 s of training, 1.5 s per cell
  const { report, files } = await runStudy('momentum', { ...tinyStudyOptions(out, budgetMinutes), cells: ['m0', 'm0.99'], command: 'npx tfjs-moco ablate --study momentum', log: (m) => logs.push(m) });
  t.deepEqual(files, { markdown: join(out, 'momentum.md'), csv: join(out, 'momentum.csv'), svg: join(out, 'momentum.svg'), json: join(out, 'momentum.json') });
  t.is(report.settings.perRunSeconds, 1.5);
  t.deepEqual(report.results.map((r) => r.cellId), ['m0', 'm0.99']);
  t.true(report.results.every((r) => r.error === undefined && r.steps >= 1 && r.trainSeconds >= 1.5));

  const csv = parseCsv(await readFile(files.csv, 'utf8'));
  t.deepEqual(csv[0], [...STUDY_CSV_COLUMNS]);
  const rows = csv.slice(1).map((r) => Object.fromEntries(csv[0].map((h, i) => [h, r[i]])));
  t.true(csv.every((r) => r.length === STUDY_CSV_COLUMNS.length));
  t.deepEqual(rows.filter((r) => r.kind === 'cell').map((r) => r.cell), ['m0', 'm0.99']);
  t.deepEqual(rows.filter((r) => r.kind === 'baseline').map((r) => r.cell), ['random-init']);
  for (const r of rows.filter((row) => row.kind === 'cell')) {
    t.true(Number(r.knn_accuracy) > 0 && Number(r.knn_accuracy) <= 1);
    t.true(Number(r.knn_running_bn_accuracy) > 0 && Number(r.knn_running_bn_accuracy) <= 1);
    t.is(Number(r.random_init_knn_accuracy), report.baselines[0].knn);
    t.is(Number(r.random_init_knn_running_bn_accuracy), report.baselines[0].knnRunningBn);
    t.true(Number(r.steps) >= 1);
    t.deepEqual(JSON.parse(r.overrides), { update: { id: 'momentum', keyEncoderMomentum: Number(r.x) } });
  }

  const md = await readFile(files.markdown, 'utf8');
  t.true(md.startsWith('# Ablation: Momentum'));
  t.regex(md, /Command: `npx tfjs-moco ablate --study momentum`\n\nWall time: /);
  t.regex(md, /\*\*1\.5 s of training per run\*\*/);
  const table = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| cell'));
  t.is(table.length, 3); // the baseline and one row per cell
  t.regex(table[0], /^\| random init \(baseline\) /);
  t.regex(table[1], /^\| m 0 \|/);
  t.regex(table[2], /^\| m 0\.99 \|/);
  t.regex(md, /## Against the paper/);
  t.regex(md, /\*\*m = 0\.\*\*/);

  const svg = await readFile(files.svg, 'utf8');
  t.true(svg.startsWith('<svg'));
  t.regex(svg, /kNN accuracy/);
  t.true(logs.some((l) => l.includes('1.5 wall s per run')));
  // The JSON holds the whole report (the per-step curves too), so the files can be re-rendered from it.
  t.deepEqual(await readStudyReport(files.json), JSON.parse(JSON.stringify(report), (_k, v) => (v === null ? NaN : v)));
});

test.serial('the shuffle-bn study records pretext accuracy and kNN over time into a timeline CSV', async (t) => {
  const out = join(root, 'shuffle');
  const { report, files } = await runStudy('shuffle-bn', { ...tinyStudyOptions(out, 0.05), cells: ['shuffle-bn', 'batchnorm'] });
  t.truthy(files.timelineCsv);
  const rows = parseCsv(await readFile(files.timelineCsv!, 'utf8'));
  t.deepEqual(rows[0], [...TIMELINE_CSV_COLUMNS]);
  for (const cell of ['shuffle-bn', 'batchnorm']) {
    const mine = rows.slice(1).filter((r) => r[0] === cell);
    t.true(mine.length >= 2, `${cell}: ${mine.length} points`);
    t.is(mine[0][2], '0'); // random init
    t.is(Number(mine[0][6]), report.baselines[0].timeline!.knn);
    t.is(Number(mine[0][7]), report.baselines[0].timeline!.knnRunningBn);
  }
  const md = await readFile(files.markdown, 'utf8');
  t.regex(md, /### Over time/);
  t.regex(md, /\*\*plain BN\*\*/);
  t.true((await readFile(files.svg, 'utf8')).includes('pretext accuracy'));
});

test.serial('budgetCovers "study": the whole study, evaluations included, finishes within its wall-time budget', async (t) => {
  const out = join(root, 'momentum-study-budget');
  const logs: string[] = [];
  const budgetMinutes = 0.4; // 24 s for everything (about 10 s of it reserved for set-up and evaluation)
  const started = performance.now();
  const { report } = await runStudy('momentum', { ...tinyStudyOptions(out, budgetMinutes), cells: ['m0', 'm0.99'], budgetCovers: 'study', log: (m) => logs.push(m) });
  const seconds = (performance.now() - started) / 1000;
  t.true(seconds <= budgetMinutes * 60, `took ${seconds.toFixed(1)} s of a ${budgetMinutes * 60} s budget`);
  t.true(report.settings.perRunSeconds > 1 && report.settings.perRunSeconds < 12, `${report.settings.perRunSeconds} s per run: less than budget ÷ runs (12 s)`);
  t.is(report.settings.budgetCovers, 'study');
  t.true(report.results.every((r) => r.steps >= 1));
  t.true(logs.some((l) => /reserved for evaluation/.test(l)));
  const md = await readFile(join(out, 'momentum.md'), 'utf8');
  t.regex(md, /min of wall time in all/);
});

test('budgetCovers "study": a budget the evaluations alone exceed, or the CPU clock, is refused with the fix', async (t) => {
  const tiny = await t.throwsAsync(runStudy('momentum', { ...tinyStudyOptions(join(root, 'x'), 0.001), cells: ['m0', 'm0.99'], budgetCovers: 'study' }));
  t.regex(tiny!.message, /budget 0.001 min is too small for study momentum: .*give at least \d+ min \(--budget\)/);
  const cpu = await t.throwsAsync(runStudy('momentum', { ...tinyStudyOptions(join(root, 'y'), 1), budgetCovers: 'study', clock: 'cpu' }));
  t.regex(cpu!.message, /budgetCovers 'study' counts wall time: use clock 'wall'/);
});
