// The report's "against the paper" paragraphs, written from the measured numbers: for each claim of the paper
// a study tests, what this run shows, and whether that agrees, disagrees or is within the evaluation's noise.
import { baselineKnn, mean, sd, summarizeCells, type CellSummary, type StudyReport } from './study-report.js';

type Trend = 'up' | 'down' | 'flat';

const pct = (x: number, digits = 1) => (Number.isFinite(x) ? (100 * x).toFixed(digits) : '–');
const signed = (x: number, digits = 1) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(digits)}` : '–');
const list = (xs: readonly string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/** Noise helpers for one report: kNN differences against about two standard errors. */
function noiseModel(report: StudyReport) {
  const n = report.settings.evaluation.testCount;
  const se = (p: number) => Math.sqrt(Math.max(p * (1 - p), 1e-4) / n);
  /** About two standard errors of the difference of two kNN numbers on the same number of queries. */
  const margin = (a: CellSummary | number, b: CellSummary | number) => {
    const pa = typeof a === 'number' ? a : a.knn;
    const pb = typeof b === 'number' ? b : b.knn;
    let m = 2 * Math.hypot(se(pa), se(pb));
    // With several seeds, the seed-to-seed spread is the better yardstick when it is larger.
    const spread = [a, b].map((c) => (typeof c === 'number' ? NaN : c.knnSd / Math.sqrt(c.runs.length)));
    if (spread.every((s) => Number.isFinite(s))) m = Math.max(m, 2 * Math.hypot(spread[0], spread[1]));
    return m;
  };
  const trend = (from: CellSummary | number, to: CellSummary | number): Trend => {
    const d = (typeof to === 'number' ? to : to.knn) - (typeof from === 'number' ? from : from.knn);
    const m = margin(from, to);
    return d > m ? 'up' : d < -m ? 'down' : 'flat';
  };
  return { margin, trend, n };
}

function scaleNote(report: StudyReport, summaries: readonly CellSummary[]): string {
  const steps = summaries.map((s) => s.steps).filter((s) => Number.isFinite(s));
  const images = summaries.flatMap((s) => s.runs.map((r) => r.images));
  const epochs = mean(images) / report.settings.data.trainCount;
  const [lo, hi] = [Math.round(Math.min(...steps)), Math.round(Math.max(...steps))];
  return (
    `Scale: each run made ${lo === hi ? lo : `${lo}–${hi}`} steps ` +
    `(about ${epochs < 0.1 ? epochs.toFixed(3) : epochs.toFixed(2)} passes over the ${report.settings.data.trainCount.toLocaleString('en-US')} images), against 200 epochs of ImageNet ` +
    `(about 10⁶ steps) in the paper, with a small encoder (${report.settings.encoder}) and a kNN read-out instead of a ResNet-50 and a linear probe. ` +
    `These are early-training numbers: the paper's ranking is about where runs end, and a short run can rank settings differently.`
  );
}

function failedNote(summaries: readonly CellSummary[]): string | undefined {
  const failed = summaries.filter((s) => s.errors.length > 0);
  if (failed.length === 0) return undefined;
  return `Failed runs: ${failed.map((s) => `${s.cell.label} (${s.errors[0]})`).join('; ')}.`;
}

/** What the bank's negatives were made of, given how much of the data the bank runs saw. */
function bankNote(report: StudyReport, bank: readonly CellSummary[]): string {
  const seen = mean(bank.flatMap((b) => b.runs.map((r) => r.images))) / report.settings.data.trainCount;
  const paper = "The bank's disadvantage in the paper is the staleness of its keys, each written about an epoch earlier by an older encoder.";
  if (!(seen < 1)) return `${paper} Here the bank runs saw the data ${seen.toFixed(1)} times, so their slots were written by encoders up to an epoch old, as in the paper.`;
  return (
    `${paper} Here the bank runs saw ${pct(seen, 0)} % of the images, so at most that share of the slots was ever written; the rest still held their random initial vectors. ` +
    'Most sampled negatives were therefore noise rather than stale keys, and so was every positive: an image\'s own slot is random until the image has been seen once, and in a run shorter than an epoch no image is seen twice. ' +
    `The bank was learning to match random targets (pretext accuracy ${pct(mean(bank.map((b) => b.finalPretextAccuracy)))} %): a different handicap from the paper's, and one that only a run of several epochs removes.`
  );
}

function mechanisms(report: StudyReport, summaries: CellSummary[]): string[] {
  const noise = noiseModel(report);
  const out: string[] = [];
  const series = [...new Set(summaries.map((s) => s.cell.series))];
  const bySeries = new Map(series.map((name) => [name, summaries.filter((s) => s.cell.series === name && Number.isFinite(s.knn)).sort((a, b) => (a.cell.x as number) - (b.cell.x as number))]));
  const trends: { name: string; trend: Trend; text: string }[] = [];
  for (const [name, cells] of bySeries) {
    if (cells.length < 2) continue;
    const first = cells[0];
    const last = cells[cells.length - 1];
    const d = last.knn - first.knn;
    trends.push({
      name,
      trend: noise.trend(first, last),
      text:
        `${name} ${cells.map((c) => pct(c.knn, 2)).join(' → ')} (K ${cells.map((c) => c.cell.x).join(' → ')}; ${signed(d)} points, noise ±${pct(noise.margin(first, last))}` +
        `${new Set(cells.map((c) => Math.round(c.steps))).size > 1 ? `; steps ${cells.map((c) => Math.round(c.steps)).join(' → ')}` : ''})`,
    });
  }
  if (trends.length > 0) {
    const up = trends.filter((t) => t.trend === 'up').map((t) => t.name);
    const flat = trends.filter((t) => t.trend === 'flat').map((t) => t.name);
    const down = trends.filter((t) => t.trend === 'down').map((t) => t.name);
    let verdict: string;
    if (up.length === trends.length) verdict = 'This agrees with the paper: every mechanism gains from a larger K, beyond the noise.';
    else if (down.length === 0 && up.length === 0) verdict = 'The paper sees every mechanism gain from a larger K; here no mechanism changes beyond the noise over its K range, so this run neither confirms nor contradicts that.';
    else {
      const parts = [];
      if (up.length) parts.push(`holds beyond the noise for ${list(up)}`);
      if (flat.length) parts.push(`is within the noise for ${list(flat)}`);
      if (down.length) parts.push(`is reversed for ${list(down)} (smaller K did better)`);
      verdict = `The paper sees every mechanism gain from a larger K; here that ${list(parts)}.`;
    }
    const e2eSteps = (bySeries.get('end-to-end') ?? []).map((c) => c.steps);
    const stepNote =
      e2eSteps.length > 1 && Math.max(...e2eSteps) >= 2 * Math.min(...e2eSteps)
        ? ' End-to-end varies K through the batch, so at equal cost its small-K cells make several times more optimizer steps than its large-K ones: in runs this short the number of steps, not K, is the likelier driver of its curve.'
        : '';
    out.push(`**K.** kNN accuracy (%) against K: ${trends.map((t) => t.text).join('; ')}. ${verdict}${stepNote}`);
  }

  const moco = bySeries.get('MoCo') ?? [];
  const bank = bySeries.get('memory bank') ?? [];
  const pairs = moco.flatMap((m) => bank.filter((b) => b.cell.x === m.cell.x).map((b) => ({ k: m.cell.x, moco: m, bank: b })));
  if (pairs.length > 0) {
    const ahead = pairs.filter((p) => p.moco.knn > p.bank.knn);
    const beyond = pairs.filter((p) => noise.trend(p.bank, p.moco) === 'up');
    const behind = pairs.filter((p) => noise.trend(p.bank, p.moco) === 'down');
    const detail = pairs.map((p) => `K ${p.k}: ${signed(p.moco.knn - p.bank.knn)}`).join(', ');
    let verdict: string;
    const bankSaw = mean(bank.flatMap((b) => b.runs.map((r) => r.images))) / report.settings.data.trainCount;
    if (beyond.length === pairs.length)
      verdict = bankSaw < 1 ? "MoCo is ahead at every K, beyond the noise: the paper's ranking, though here for a different reason (below)." : 'MoCo is ahead at every K, beyond the noise: this agrees with the paper.';
    else if (behind.length === pairs.length) verdict = 'The memory bank is ahead at every K, beyond the noise: this disagrees with the paper.';
    else if (behind.length === 0) verdict = `MoCo is ahead at ${ahead.length} of ${pairs.length} K (beyond the noise at ${beyond.length}) and never behind beyond it: consistent with the paper, though not a clear confirmation.`;
    else verdict = `MoCo is ahead beyond the noise at ${beyond.length} of ${pairs.length} K and behind beyond it at ${behind.length}: mixed, not the clear MoCo lead the paper reports.`;
    out.push(
      `**MoCo against the memory bank** (kNN points, MoCo minus memory bank, same K): ${detail}. ${verdict} ` +
        bankNote(report, bank),
    );
  }

  const e2e = bySeries.get('end-to-end') ?? [];
  if (e2e.length > 0 && moco.length > 0) {
    const e = e2e[e2e.length - 1];
    const m = moco.reduce((best, c) => (Math.abs((c.cell.x as number) - (e.cell.x as number)) < Math.abs((best.cell.x as number) - (e.cell.x as number)) ? c : best));
    const t = noise.trend(m, e);
    const verdict = t === 'flat' ? 'within the noise of each other, as the paper finds at small K' : t === 'up' ? 'end-to-end ahead beyond the noise (the paper has them about level at small K)' : 'end-to-end behind beyond the noise (the paper has them about level at small K)';
    out.push(`**End-to-end against MoCo at similar K:** end-to-end K ${e.cell.x} ${pct(e.knn, 2)} vs MoCo K ${m.cell.x} ${pct(m.knn, 2)}: ${verdict}.`);
  }

  const speed = series
    .map((name) => {
      const cells = summaries.filter((s) => s.cell.series === name);
      return `${name} ${Math.round(mean(cells.map((c) => c.imagesPerSecond)))} images per ${report.settings.clock === 'cpu' ? 'CPU ' : ''}second`;
    })
    .join(', ');
  out.push(
    `**Cost.** At equal ${report.settings.clock === 'cpu' ? 'computation time' : 'wall clock'} the mechanisms get through different numbers of images: ${speed}. End-to-end back-propagates through both views; ` +
      'the memory bank has no key encoder (one forward pass per image less than MoCo). ' +
      scaleNote(report, summaries),
  );
  return out;
}

function momentum(report: StudyReport, summaries: CellSummary[]): string[] {
  const noise = noiseModel(report);
  const out: string[] = [];
  const base = baselineKnn(report);
  const zero = summaries.find((s) => s.cell.x === 0);
  const others = summaries.filter((s) => s.cell.x !== 0 && Number.isFinite(s.knn));
  const chance = (s: CellSummary) => Math.log(s.cell.negatives + 1);
  // Step-to-step jitter of the loss: the spread of its first differences over the second half of the run
  // (differences remove a steady trend); only with enough steps to mean anything.
  const lossSpread = (s: CellSummary) => {
    const tails = s.runs.map((r) => r.losses.slice(Math.floor(r.losses.length / 2)));
    if (tails.some((t) => t.length < 10)) return NaN;
    return mean(tails.map((t) => sd(t.slice(1).map((x, i) => x - t[i]))));
  };
  if (zero && Number.isFinite(zero.knn)) {
    const best = others.length ? others.reduce((a, b) => (b.knn > a.knn ? b : a)) : undefined;
    const vsBase = noise.trend(base, zero);
    const vsBest = best ? noise.trend(best, zero) : 'flat';
    const lossText =
      `its final loss is ${zero.finalLoss.toFixed(2)} (chance, ln(K+1), is ${chance(zero).toFixed(2)})` +
      (others.length ? ` against ${others.map((o) => `${o.finalLoss.toFixed(2)} at m ${o.cell.x}`).join(', ')}` : '') +
      (Number.isFinite(lossSpread(zero))
        ? `; the standard deviation of its step-to-step loss changes over the second half of the run is ${lossSpread(zero).toFixed(3)}` +
          (others.length ? ` (${others.map((o) => `m ${o.cell.x} ${lossSpread(o).toFixed(3)}`).join(', ')})` : '')
        : '');
    const spreads = others.map(lossSpread).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const typical = spreads.length ? spreads[Math.floor(spreads.length / 2)] : NaN;
    const oscillates = Number.isFinite(typical) && lossSpread(zero) > 2 * typical;
    const oscillation = oscillates
      ? ` Its loss does oscillate: step-to-step changes ${(lossSpread(zero) / typical).toFixed(1)}× as large as with the other momenta, the symptom the paper reports before m 0 fails.`
      : '';
    const othersPretext = others.length ? Math.max(...others.map((o) => o.finalPretextAccuracy)) : NaN;
    const shortcut =
      zero.finalPretextAccuracy > 0.5 && zero.finalPretextAccuracy > 3 * othersPretext
        ? ` Its pretext accuracy, though, is ${pct(zero.finalPretextAccuracy)} % against at most ${pct(othersPretext)} % for the others, without a better kNN. ` +
          'The likely reason: with the key encoder copied after every step, the keys in the queue come from encoders that have changed a lot since, so the current positive key can stand out from them by the encoder version alone, ' +
          'the inconsistent dictionary the paper\'s momentum exists to prevent. A shortcut for the pretext task, not a better representation.'
        : '';
    let verdict: string;
    if (vsBase === 'down') verdict = 'm 0 ends below the untrained encoder: it fails, as the paper says.';
    else if (vsBest === 'down') verdict = `m 0 lags the best momentum (m ${best!.cell.x}, ${pct(best!.knn, 2)} %) beyond the noise: this agrees with the paper's direction (the paper's m 0 fails outright).`;
    else verdict = `m 0 is within the noise of ${best ? `the best momentum (m ${best.cell.x}, ${pct(best.knn, 2)} %)` : 'the others'}${vsBase === 'up' ? ' and above the untrained encoder' : ''}: in this short run it has not (yet) failed, which does not match the paper.`;
    out.push(`**m = 0.** kNN ${pct(zero.knn, 2)} % (random init ${pct(base, 2)} %); ${lossText}. ${verdict}${oscillation}${shortcut}`);
  }
  if (others.length >= 2) {
    const sorted = [...others].sort((a, b) => (a.cell.x as number) - (b.cell.x as number));
    const increasing = sorted.every((s, i) => i === 0 || s.knn >= sorted[i - 1].knn);
    const moved = sorted.map((s) => `m ${s.cell.x} after ${Math.round(s.steps)} steps: ${pct(1 - Math.pow(s.cell.x as number, s.steps), 0)} %`).join(', ');
    const firstLast = noise.trend(sorted[0], sorted[sorted.length - 1]);
    let verdict: string;
    if (increasing && firstLast === 'up') verdict = 'kNN rises with m, beyond the noise from the smallest to the largest: this agrees with the paper (55.2, 57.8, 59.0 for m 0.9, 0.99, 0.999).';
    else if (increasing) verdict = 'kNN rises with m, as in the paper (55.2, 57.8, 59.0 for m 0.9, 0.99, 0.999), but the rise is within the noise.';
    else {
      const best = sorted.reduce((a, b) => (b.knn > a.knn ? b : a));
      verdict =
        `The order differs from the paper's (which rises with m up to 0.999): here m ${best.cell.x} is best${firstLast === 'flat' ? ', and the differences are within the noise' : ''}. ` +
        `A slow key encoder needs many steps: the share of the way the key encoder's weights have moved from their initialisation towards the query encoder's is 1 − m^steps: ${moved}. ` +
        'With m 0.999 the keys still come from an almost untrained encoder, a handicap that the paper\'s ~10⁶ steps never see.';
    }
    out.push(`**m > 0.** kNN (%): ${sorted.map((s) => `m ${s.cell.x} ${pct(s.knn, 2)}`).join(', ')} (noise about ±${pct(noise.margin(sorted[0], sorted[sorted.length - 1]))} points). ${verdict}`);
  }
  out.push(scaleNote(report, summaries));
  return out;
}

function shuffleBn(report: StudyReport, summaries: CellSummary[]): string[] {
  const noise = noiseModel(report);
  const out: string[] = [];
  const shuffled = summaries.find((s) => s.cell.id === 'shuffle-bn');
  const unshuffled = summaries.filter((s) => s.cell.id !== 'shuffle-bn' && Number.isFinite(s.knn));
  // The highest 5-step rolling mean in the second half of a run (its first steps, against a queue of random
  // vectors, are trivially easy).
  const peak = (s: CellSummary) =>
    mean(
      s.runs.map((r) => {
        let best = -Infinity;
        const from = Math.floor(r.pretextAccuracies.length / 2);
        for (let i = from; i < r.pretextAccuracies.length; i++) best = Math.max(best, mean(r.pretextAccuracies.slice(Math.max(from, i - 4), i + 1)));
        return best;
      }),
    );
  const lastKnn = (s: CellSummary) => mean(s.runs.map((r) => r.timeline[r.timeline.length - 1]?.knn ?? NaN));
  // Pretext accuracy rises with training, so cells that made different numbers of steps are compared over the
  // same steps: the second half of the steps every run made.
  const common = Math.min(...summaries.flatMap((s) => s.runs.map((r) => r.pretextAccuracies.length)));
  const from = Math.floor(common / 2);
  const windowPretext = (s: CellSummary) => mean(s.runs.map((r) => mean(r.pretextAccuracies.slice(from, common))));
  const windowQueries = (s: CellSummary) => (common - from) * s.cell.batchSize * s.runs.length;
  const pretextMargin = (a: CellSummary, b: CellSummary) => {
    const v = (c: CellSummary) => Math.max(windowPretext(c) * (1 - windowPretext(c)), 1e-4) / windowQueries(c);
    return 2 * Math.sqrt(v(a) + v(b));
  };
  const steps = summaries.map((s) => `${s.cell.label} ${Math.round(s.steps)}`).join(', ');
  const window = from + 1 === common ? `step ${common}` : `steps ${from + 1}–${common}`;
  out.push(
    `**Pretext accuracy.** Final (as in the table) and the peak of a 5-step rolling mean over the second half of the run: ` +
      summaries.map((s) => `${s.cell.label} ${pct(s.finalPretextAccuracy)} % (peak ${pct(peak(s))} %)`).join(', ') +
      `. The runs made different numbers of steps (${steps}), and pretext accuracy rises as a run goes on, so the comparison below uses ${window}, which every run made: ` +
      summaries.map((s) => `${s.cell.label} ${pct(windowPretext(s))} %`).join(', ') +
      '.',
  );
  if (shuffled && Number.isFinite(shuffled.knn) && unshuffled.length > 0 && common >= 1) {
    const claims = unshuffled.map((u) => {
      const easier = windowPretext(u) - windowPretext(shuffled);
      const margin = pretextMargin(u, shuffled);
      const easierReal = easier > margin;
      const runaway = windowPretext(u) > 0.99;
      const knnTrend = noise.trend(shuffled, u);
      const pretextText = `pretext accuracy ${pct(windowPretext(u))} % vs ${pct(windowPretext(shuffled))} % with Shuffle BN over ${window} (${signed(easier)} points, noise ±${pct(margin)})`;
      const knnText = `final kNN ${pct(u.knn, 2)} % vs ${pct(shuffled.knn, 2)} % (${signed(u.knn - shuffled.knn)} points, noise ±${pct(noise.margin(shuffled, u))})`;
      let verdict: string;
      if (easierReal && knnTrend === 'down') verdict = `the pretext task is easier${runaway ? ' (it runs away, as in the paper)' : ''} and kNN lags: the paper's cheating signature`;
      else if (easierReal && knnTrend === 'flat') verdict = `the pretext task is easier${runaway ? ' (it runs away)' : ''}, the first half of the paper's signature, but kNN does not (yet) lag beyond the noise`;
      else if (easierReal) verdict = 'the pretext task is easier, yet kNN is better beyond the noise: the leak has not hurt the representation in this run';
      else if (knnTrend === 'down') verdict = 'the pretext task is not easier, but kNN lags beyond the noise';
      else verdict = 'neither is the pretext task easier nor does kNN lag beyond the noise: this run shows no sign of the cheating the paper describes';
      return `**${u.cell.label}** (${u.cell.summary}): ${pretextText}; ${knnText}; ${verdict}.`;
    });
    out.push(...claims);
    const over = summaries.map((s) => `${s.cell.label} ${pct(lastKnn(s), 2)} %`).join(', ');
    out.push(
      `On the small timeline subset (table above), the last kNN points are: ${over}. The paper's runs start to cheat within the first epochs of ImageNet, thousands of steps, far beyond these runs. ` +
        "Of the two cells without a shuffle, split BN (statistics over groups of 32, query and key in the same group) is the closer analogue of the paper's per-GPU BN; " +
        'plain BN over the whole batch of 256 should leak less, each image weighing less in the statistics it shares with its key.',
    );
  }
  out.push(scaleNote(report, summaries));
  return out;
}

function queueSize(report: StudyReport, summaries: CellSummary[]): string[] {
  const noise = noiseModel(report);
  const out: string[] = [];
  const cells = summaries.filter((s) => Number.isFinite(s.knn)).sort((a, b) => (a.cell.x as number) - (b.cell.x as number));
  if (cells.length >= 2) {
    const best = cells.reduce((a, b) => (b.knn > a.knn ? b : a));
    const t = noise.trend(cells[0], cells[cells.length - 1]);
    const monotone = cells.every((c, i) => i === 0 || c.knn >= cells[i - 1].knn);
    let verdict: string;
    if (t === 'up' && monotone) verdict = 'kNN rises with K, beyond the noise from the smallest to the largest queue: this agrees with the paper.';
    else if (t === 'up') verdict = `The largest queue beats the smallest beyond the noise, but not monotonically (best: K ${best.cell.x}); the paper's curve rises throughout, the CIFAR demo's saturates at 4096.`;
    else if (t === 'flat') verdict = `The differences are within the noise (best: K ${best.cell.x}): this run cannot confirm the paper's gain from a larger K.`;
    else verdict = `The smallest queue beats the largest beyond the noise (best: K ${best.cell.x}): this disagrees with the paper's curve.`;
    out.push(`**K.** kNN (%): ${cells.map((c) => `K ${c.cell.x} ${pct(c.knn, 2)}`).join(', ')} (noise about ±${pct(noise.margin(cells[0], cells[cells.length - 1]))} points). ${verdict}`);
  }
  const partly = summaries.filter((s) => s.dictionaryFill < 0.999);
  if (partly.length > 0) {
    out.push(
      `**Queue fill.** A queue fills by one batch per step: at the end, ${partly.map((s) => `K ${s.cell.x} held ${pct(s.dictionaryFill, 0)} % real keys`).join(', ')}; ` +
        'the rest were still the random unit vectors it starts with: easy negatives (nearly orthogonal to every query) that carry no information about the data. So the largest queues here are not the dictionaries the paper measures: a real comparison at large K needs runs of at least K / 256 steps.',
    );
  }
  out.push(
    `**Cost.** Images per ${report.settings.clock === 'cpu' ? 'CPU ' : ''}second: ${summaries.map((s) => `K ${s.cell.x} ${Math.round(s.imagesPerSecond)}`).join(', ')}. ` +
      `The [N, K] similarity matrix grows with K, but at these sizes the encoder's cost dominates, and differences between cells mostly follow the machine's load. ${scaleNote(report, summaries)}`,
  );
  return out;
}

/** What the two kNN read-outs say together, when they disagree about the untrained encoder. */
function readoutNote(report: StudyReport, summaries: readonly CellSummary[]): string | undefined {
  const ok = summaries.filter((s) => Number.isFinite(s.knn) && Number.isFinite(s.knnRunningBn));
  if (ok.length === 0) return undefined;
  const base = baselineKnn(report);
  const baseRunning = mean(report.baselines.map((b) => b.knnRunningBn));
  const aboveRe = ok.filter((s) => s.knn > base).length;
  const belowRunning = ok.filter((s) => s.knnRunningBn < baseRunning).length;
  // Only the pattern explained below: the untrained encoder reads better with its initial statistics.
  if (belowRunning === 0 || !(baseRunning > base)) return undefined;
  return (
    `**The two read-outs.** With re-estimated BatchNorm statistics, ${aboveRe} of ${ok.length} cells are above the untrained encoder (${pct(base, 2)} %); ` +
    `with the running statistics the runs left, ${belowRunning} of ${ok.length} are below it (${pct(baseRunning, 2)} %). ` +
    'The untrained encoder\'s initial statistics (mean 0, variance 1) happen to suit kNN on these images, while a few steps of training leave statistics halfway between that start and the data; ' +
    'the running-BN column therefore mostly measures how many steps a cell made, and the comparisons above use the re-estimated one.'
  );
}

/** Paragraphs comparing the study's numbers with the paper's, as markdown. */
export function comparePaper(report: StudyReport): string[] {
  const summaries = summarizeCells(report);
  const body =
    report.study.name === 'mechanisms'
      ? mechanisms(report, summaries)
      : report.study.name === 'momentum'
        ? momentum(report, summaries)
        : report.study.name === 'shuffle-bn'
          ? shuffleBn(report, summaries)
          : queueSize(report, summaries);
  const extra = [readoutNote(report, summaries), failedNote(summaries)].filter((x): x is string => x !== undefined);
  return [...body, ...extra];
}
