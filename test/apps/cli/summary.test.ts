import test from 'ava';
import { defaultWorkers, MAX_DEFAULT_WORKERS, QUICK_OVERRIDES, resolveRunConfig } from '../../../apps/cli/run-config.js';
import { summaryLine } from '../../../apps/cli/report.js';
import type { EncoderEvaluation } from '../../../src/eval/baselines.js';

const evaluation = (enc: [number, number], raw: [number, number], rand: [number, number], centred = 0.827): EncoderEvaluation => ({
  knn: { encoder: enc[0], rawPixels: raw[0], randomInit: rand[0], rawPixelsCentered: centred },
  linear: { encoder: enc[1], rawPixels: raw[1], randomInit: rand[1] },
  numClasses: 10,
  trainCount: 60000,
  testCount: 10000,
});

test('summaryLine says per baseline whether the encoder beats it, on which read-out', (t) => {
  t.is(
    summaryLine(evaluation([0.801, 0.859], [0.798, 0.8535], [0.752, 0.792]), 'full split, 60000 / 10000'),
    'encoder kNN 80.10 % / linear 85.90 % (full split, 60000 / 10000) — beats raw pixels on both (79.80 % / 85.35 %); ' +
      'does not beat mean-centred pixels on kNN (82.70 %); beats random init on both (75.20 % / 79.20 %)',
  );
  const mixed = summaryLine(evaluation([0.801, 0.85], [0.798, 0.854], [0.81, 0.84]), 'x');
  t.regex(mixed, /beats raw pixels on kNN \(79\.80 %\) but not on linear \(85\.40 %\)/);
  t.regex(mixed, /beats random init on linear \(84\.00 %\) but not on kNN \(81\.00 %\)/);
  // A tie is not a win.
  t.regex(summaryLine(evaluation([0.8, 0.85], [0.8, 0.85], [0.7, 0.8]), 'x'), /does not beat raw pixels on either \(80\.00 % \/ 85\.00 %\)/);
  // Without a probe or baselines, only what was measured.
  t.is(summaryLine({ knn: { encoder: 0.5, rawPixels: 0.6, randomInit: null, rawPixelsCentered: null }, numClasses: 2, trainCount: 4, testCount: 2 }, 's'), 'encoder kNN 50.00 % (s) — does not beat raw pixels on kNN (60.00 %)');
});

test('defaultWorkers: every core up to the cap; one thread where workers cannot start; an explicit count wins', (t) => {
  t.is(defaultWorkers(0, true, 2), 2);
  t.is(defaultWorkers(0, true, 1), 1);
  t.is(defaultWorkers(0, true, 64), MAX_DEFAULT_WORKERS);
  t.is(defaultWorkers(0, false, 8), 1);
  t.is(defaultWorkers(1, true, 8), 1);
  t.is(defaultWorkers(6, true, 2), 6);
});

test('the default job evaluates on the full split and picks its workers; --quick keeps small subsets', (t) => {
  const run = resolveRunConfig({}, 'options');
  t.like(run, { workers: 0, evaluation: { trainPerClass: 0, testPerClass: 0, k: 200, temperature: 0.1, probe: true, cacheBaselines: true } });
  t.like(resolveRunConfig(QUICK_OVERRIDES as Record<string, unknown>, 'options'), { evaluation: { trainPerClass: 100, testPerClass: 50 } });
});
