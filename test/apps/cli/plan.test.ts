import test from 'ava';
import { finalEvaluationSeconds, planRun, planningRate } from '../../../apps/cli/plan.js';

const base = { elapsedSeconds: 20, datasetSize: 60000, batchSize: 256, plannedEpochs: 10, knnEvery: 1, monitorImages: 1500, finalImages: 7000 };
const speed = (train: number, infer = 500) => ({ trainImagesPerSecond: train, inferImagesPerSecond: infer, seconds: 10 });

test('a slow machine: shorter epochs (5 to 10) filling the budget to within a few steps', (t) => {
  for (const ips of [12, 25, 60, 95]) {
    const plan = planRun({ ...base, budgetSeconds: 600, speed: speed(ips) });
    t.true(plan.epochs >= 5 && plan.epochs <= 10, `${ips} img/s: ${plan.epochs} epochs`);
    t.is(plan.totalSteps, plan.epochs * plan.stepsPerEpoch!);
    t.true(plan.plannedTotalSeconds <= 600, `${ips} img/s: planned ${plan.plannedTotalSeconds} s`);
    t.true(plan.plannedTotalSeconds >= 600 - plan.epochs * (256 / ips) - 40, `${ips} img/s: planned only ${plan.plannedTotalSeconds} s`);
    t.regex(plan.reason, new RegExp(`does not fit: ${plan.epochs} epochs of ${plan.stepsPerEpoch} steps`));
  }
});

test('1.3 passes fit: shorter epochs use the budget instead of stopping after one pass', (t) => {
  // 150 img/s: ≈ 316 steps fit (540 s of training), one pass is 235 steps
  const plan = planRun({ ...base, budgetSeconds: 600, speed: speed(150) });
  t.is(plan.totalSteps, plan.epochs * plan.stepsPerEpoch!);
  t.true(plan.totalSteps > 280, `${plan.totalSteps} steps (${plan.epochs} × ${plan.stepsPerEpoch})`);
  t.true(plan.stepsPerEpoch! <= 235 && plan.plannedTotalSeconds <= 600, `${plan.plannedTotalSeconds} s`);
  t.regex(plan.reason, /1 full pass\(es\) of 235 steps would leave budget unused: \d+ epochs of \d+ steps/);
});

test('a fast machine: whole passes, as many as fit', (t) => {
  const plan = planRun({ ...base, budgetSeconds: 600, speed: speed(2000, 20000) });
  t.is(plan.stepsPerEpoch, undefined);
  t.is(plan.totalSteps, plan.epochs * 235);
  t.true(plan.epochs >= 15 && plan.plannedTotalSeconds <= 600, `${plan.epochs} epochs, ${plan.plannedTotalSeconds} s`);
  t.regex(plan.reason, /full pass\(es\) of 235 steps fit/);
});

test('a budget already spent still trains one step', (t) => {
  const plan = planRun({ ...base, budgetSeconds: 10, speed: speed(5) });
  t.is(plan.totalSteps, 1);
});

test('planningRate: the median of the later half of the timed steps, never the first', (t) => {
  // The --workers 2 default job's first 10 steps: warm-up in steps 1-4.
  t.is(planningRate([97, 248, 310, 308, 260, 321, 317, 278, 389, 360]), 321);
  t.is(planningRate([100, 300]), 300);
  t.is(planningRate([100, 300, 200]), 300); // steps 2-3: median of [200, 300] takes the upper one
  t.is(planningRate([120]), 120);
  t.throws(() => planningRate([]), { message: /no steps/ });
});

test('finalEvaluationSeconds: cached baselines cost less, and planRun trains the time they free', (t) => {
  const common = { trainCount: 60000, testCount: 10000, inferImagesPerSecond: 1300, featureDim: 64, pixelDim: 784, probeEpochs: 10, numClasses: 10 };
  const cold = finalEvaluationSeconds({ ...common, encoders: 2, pixels: true });
  const warm = finalEvaluationSeconds({ ...common, encoders: 1, pixels: false });
  // The measured costs on the test machine: ~300 s with both baselines computed, ~70 s with both cached.
  t.true(cold > 200 && cold < 400, `cold ${cold}`);
  t.true(warm > 50 && warm < 120, `warm ${warm}`);
  const plan = (finalSeconds: number) => planRun({ ...base, finalImages: 70000, budgetSeconds: 600, speed: speed(300, 1300), finalSeconds });
  const a = plan(cold);
  const b = plan(warm);
  t.true(a.plannedTotalSeconds <= 600 && b.plannedTotalSeconds <= 600);
  // 300 img/s, batch 256: the freed seconds become steps.
  t.true(b.totalSteps - a.totalSteps >= Math.floor(((cold - warm) * 300) / 256) - 12, `${a.totalSteps} → ${b.totalSteps}`);
});
