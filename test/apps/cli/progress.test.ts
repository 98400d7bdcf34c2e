import test from 'ava';
import { ProgressView } from '../../../apps/cli/progress.js';

function view() {
  const lines: string[] = [];
  const v = new ProgressView({ out: (l) => lines.push(l), err: (l) => lines.push(l), tty: false, plugins: [] });
  return { v, lines };
}
const started = { type: 'run-started', config: {}, backend: 'cpu', epochs: 15, batchSize: 64, totalSteps: 4080, startStep: 0, startEpoch: 0 } as const;
const epochEnded = (epoch: number) => ({ type: 'epoch-ended', epoch, steps: 272, meanLoss: 4.5, meanPretextAccuracy: 0.2, seconds: 50, imagesPerSecond: 350 }) as const;

test('a budgeted run counts epochs to its planned end, not to the fit\'s headroom, and follows a re-planned end', (t) => {
  const { v, lines } = view();
  v.endAt(2720, 272); // planned 10 epochs of 272 steps; the fit has 15 (headroom)
  v.handle(started);
  v.handle(epochEnded(0));
  t.regex(lines.at(-1)!, /^epoch 1\/10: 272 steps/);
  v.endAt(3000, 272); // re-planned later: the run is faster than measured
  v.handle(epochEnded(1));
  t.regex(lines.at(-1)!, /^epoch 2\/12: /);
});

test('without an end the fit\'s own epochs are shown', (t) => {
  const { v, lines } = view();
  v.handle(started);
  v.handle(epochEnded(0));
  t.regex(lines.at(-1)!, /^epoch 1\/15: /);
});
