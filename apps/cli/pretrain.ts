// `tfjs-moco pretrain` and `tfjs-moco resume`: the whole job, from data to report.
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { resumableImageDataset } from '../../src/checkpoint/epoch-dataset.js';
import { readCheckpointManifest } from '../../src/checkpoint/checkpoint-io.js';
import { CheckpointError } from '../../src/checkpoint/checkpoint-format.js';
import { saveModel } from '../../src/checkpoint/model-files.js';
import { resumeMoco } from '../../src/resume-moco.js';
import { stratifiedSubset, type ImageSet } from '../../src/data/index.js';
import type { EncoderEvaluation } from '../../src/eval/baselines.js';
import { LINEAR_PROBE_DEFAULTS } from '../../src/eval/linear-probe.js';
import { baselineCacheDir, baselineKeys, cacheState, evaluateWithCachedBaselines } from './baseline-cache.js';
import type { MocoEvent } from '../../src/events/moco-event.js';
import { createMoco, type Moco } from '../../src/moco.js';
import { StrategyRegistry } from '../../src/registry/strategy-registry.js';
import { modelFacts } from '../../src/step/moco-encoders.js';
import { attachKnnMonitor } from '../../src/eval/knn-monitor.js';
import { workerThreadExecutor } from '../../src/node/index.js';
import { NonFiniteLossError } from '../../src/training/non-finite.js';
import type { FitOptions } from '../../src/training/fit-options.js';
import { useBackend, type BackendUsed } from './backend.js';
import { CliError, oneLine } from './cli-error.js';
import { prepareOutDir, runState } from './out-dir.js';
import { describeSet, loadData, parseDataSpec, type LoadedData } from './data-spec.js';
import { buildEncoder, type ModelName } from './encoder-spec.js';
import { BudgetReplanner, evalImages, finalEvaluationSeconds, measureSpeed, monitorEvalsAfter, planRun, withHeadroom, type Speed } from './plan.js';
import { ProgressView, type CliIo } from './progress.js';
import { renderSvg, reportMarkdown, reportSpec, splitLabel, summaryLine } from './report.js';
import { checkMocoFlags, mocoSettings, resolveMoco, type MocoFlags } from './moco-settings.js';
import { QUICK_OVERRIDES, checkWorkers, deepMerge, defaultWorkers, readConfigFile, resolveRunConfig, type RunConfig } from './run-config.js';

export interface PretrainFlags extends MocoFlags {
  config?: string;
  data?: string;
  out?: string;
  epochs?: number;
  batchSize?: number;
  backend?: RunConfig['backend'];
  seed?: number;
  knnEvery?: number;
  minutes?: number;
  quick?: boolean;
  model?: ModelName;
  width?: number;
  /** Stop (with a checkpoint) after this many steps in all, as Ctrl-C would. */
  stopAfter?: number;
  workers?: number;
  /** Start over in an --out folder holding a previous run (its own files are deleted; foreign files never). */
  overwrite?: boolean;
}

/** What <out>/config.json holds: everything `resume` needs, and the record of what ran. */
export interface RunRecord {
  tool: 'tfjs-moco';
  command: 'pretrain';
  createdAt: string;
  run: RunConfig;
  /** createMoco's resolved config. */
  moco: Record<string, unknown>;
  plan: {
    epochs: number;
    stepsPerEpoch?: number;
    batchSize: number;
    totalSteps: number;
    datasetSize: number;
    budgetSeconds?: number;
    plannedTrainSeconds?: number;
    plannedTotalSeconds?: number;
    /** Planned costs (s) of a step, a monitor evaluation and the final evaluation: what re-planning starts from. */
    stepSeconds?: number;
    monitorSeconds?: number;
    finalSeconds?: number;
    /** Where re-planning during the run moved its end (optimizer steps in all); a resume ends there too. */
    endAfterStep?: number;
    reason: string;
  };
  speed?: Speed;
  backend: BackendUsed;
  data: { spec: string; train: string; test?: string; heldOut: boolean };
}

export const CONFIG_FILE = 'config.json';
export const EVENTS_FILE = 'events.jsonl';
export const CHECKPOINT_DIR = 'checkpoint';
export const RESULTS_FILE = 'results.json';

function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

/** Exit code of a run stopped because its loss or gradients were not finite (fit option nonFinite). */
export const DIVERGED_EXIT_CODE = 3;

/** fit's data-parallel options for `run.workers` (nothing for one thread). */
function parallelOptions(run: RunConfig, io: CliIo): Pick<FitOptions, 'workers' | 'workerPlugins' | 'workerExecutor'> {
  if (run.workers <= 1) return {};
  if (!io.pluginModules?.length) {
    throw new CliError(`workers: ${run.workers} trains in worker threads, which import the plugins by module; this host gave none (runCli's io.pluginModules; the tfjs-moco executable passes its own)`);
  }
  return { workers: run.workers, workerPlugins: [...io.pluginModules], workerExecutor: workerThreadExecutor };
}

/** The final evaluation's memory / probe training set and queries: every image unless per-class subsets are set. */
function finalEvaluationSets(run: RunConfig, data: LoadedData): { train: ImageSet; test: ImageSet } {
  const subsetOf = (set: ImageSet, perClass: number) => (perClass === 0 ? set : stratifiedSubset(set, perClass, run.seed));
  return { train: subsetOf(data.train, run.evaluation.trainPerClass), test: subsetOf(data.test!, run.evaluation.testPerClass) };
}

/**
 * Predicted seconds of the final evaluation, inside the budget: what the baseline cache already holds for this
 * protocol is not recomputed (see baseline-cache.ts), so a first run on a machine trains less than later ones.
 */
async function planFinalEvaluation(run: RunConfig, data: LoadedData, backbone: tfl.LayersModel, speed: Speed, io: CliIo): Promise<number | undefined> {
  if (!data.test || !data.train.labels) return undefined;
  const sets = finalEvaluationSets(run, data);
  const knn = { k: run.evaluation.k, temperature: run.evaluation.temperature };
  const cached = run.evaluation.cacheBaselines
    ? await cacheState(await baselineKeys(backbone, { ...sets, knn, probe: run.evaluation.probe }), baselineCacheDir())
    : { pixels: false, randomInit: false };
  const featureDim = (backbone.outputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const seconds = finalEvaluationSeconds({
    trainCount: sets.train.count,
    testCount: sets.test.count,
    inferImagesPerSecond: speed.inferImagesPerSecond,
    encoders: cached.randomInit ? 1 : 2,
    featureDim,
    pixelDim: data.train.height * data.train.width * data.train.channels,
    pixels: !cached.pixels,
    probeEpochs: run.evaluation.probe ? LINEAR_PROBE_DEFAULTS.epochs : 0,
    numClasses: new Set(data.train.labels).size,
  });
  const what = (ok: boolean, name: string) => `${name} ${ok ? 'cached' : 'computed this time'}`;
  io.err(
    `final evaluation on ${sets.train.count} / ${sets.test.count} images ≈ ${Math.round(seconds)} s, planned in the budget ` +
      `(baselines: ${what(cached.pixels, 'raw pixels')}, ${what(cached.randomInit, 'random init')})`,
  );
  return seconds;
}

export async function pretrainCommand(flags: PretrainFlags, io: CliIo): Promise<number> {
  const started = performance.now();
  const { moco: fileMoco, ...file } = flags.config ? await readConfigFile(flags.config) : {};
  const fromFlags = {
    data: flags.data,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    backend: flags.backend,
    workers: flags.workers,
    seed: flags.seed,
    knnEvery: flags.knnEvery,
    minutes: flags.minutes,
    model: flags.model || flags.width ? { name: flags.model, width: flags.width } : undefined,
    moco: mocoSettings(fileMoco, flags, Boolean(flags.quick)),
  };
  const run = resolveRunConfig(deepMerge(flags.quick ? (QUICK_OVERRIDES as Record<string, unknown>) : undefined, file, fromFlags), flags.config ? `--config ${flags.config}` : 'options');
  // Every core by default (workers 0); the record keeps the number used, so `resume` continues alike.
  run.workers = defaultWorkers(run.workers, Boolean(io.pluginModules?.length));
  parseDataSpec(run.data);
  const registry = new StrategyRegistry(io.plugins);
  checkMocoFlags(run.moco, run.seed, flags, registry);
  // The MoCo settings, checked before any data loads (again below with the encoder's facts).
  resolveMoco(run.moco, run.seed, registry);
  checkWorkers(run.workers);
  // Before any work: a bad --out fails in milliseconds, not after the data loaded.
  const out = await prepareOutDir(flags.out ?? join('runs', timestamp()), Boolean(flags.overwrite));
  const backend = await useBackend(run.backend, true, io.err);
  const data = await loadData(run.data, (m) => io.err(`warning: ${m}`));
  io.err(`data: ${describeSet(data.train)}${data.test ? `; evaluation on ${describeSet(data.test)}${data.heldOut ? ' (held out, not trained on)' : ''}` : ''}`);
  const shape: [number, number, number] = [data.train.height, data.train.width, data.train.channels];
  const backbone = buildEncoder(run.model, shape);
  let moco: Moco | undefined;
  try {
    // Resolved first: a bad MoCo setting fails here, naming the field or flag, before any time is spent.
    const mocoConfig = resolveMoco(run.moco, run.seed, registry, modelFacts(backbone));
    moco = createMoco({ backbone, plugins: io.plugins, config: mocoConfig });
    let plan: RunRecord['plan'];
    let speed: Speed | undefined;
    const passSteps = Math.ceil(data.train.count / run.batchSize);
    if (run.epochs !== undefined) {
      const steps = run.stepsPerEpoch ?? passSteps;
      plan = { epochs: run.epochs, stepsPerEpoch: run.stepsPerEpoch, batchSize: run.batchSize, totalSteps: run.epochs * steps, datasetSize: data.train.count, reason: 'epochs given' };
    } else {
      // The first steps run slower (workers starting; V8 compiles WebAssembly in tiers, so the SIMD conv loops
      // reach full speed only after a few calls): time 10 steps and plan with the median of the last 5
      // (planningRate). With steps 2-4 the default job measured 229 images/s and trained at 308-323; with
      // --workers 2, 210 and 272-525 (ending after 5 of its 10 minutes).
      const steps = 10;
      io.err(`measuring speed (${steps} steps of batch ${run.batchSize}${run.workers > 1 ? ` on ${run.workers} workers` : ''})...`);
      speed = await measureSpeed({ makeBackbone: () => buildEncoder(run.model, shape), plugins: io.plugins, mocoConfig, train: data.train, batchSize: run.batchSize, parallel: parallelOptions(run, io), steps });
      const monitorImages = run.knnEvery > 0 ? evalImages(data.train, data.test, run.monitor.trainPerClass, run.monitor.testPerClass) : 0;
      const finalSeconds = await planFinalEvaluation(run, data, backbone, speed, io);
      const p = planRun({
        budgetSeconds: run.minutes * 60,
        elapsedSeconds: (performance.now() - started) / 1000,
        speed,
        datasetSize: data.train.count,
        batchSize: run.batchSize,
        plannedEpochs: run.plannedEpochs,
        knnEvery: run.knnEvery,
        monitorImages,
        finalImages: evalImages(data.train, data.test, run.evaluation.trainPerClass, run.evaluation.testPerClass),
        finalSeconds,
      });
      const stepsPerEpoch = run.stepsPerEpoch ?? p.stepsPerEpoch;
      const fit = withHeadroom({ epochs: p.epochs, totalSteps: p.epochs * (stepsPerEpoch ?? passSteps) }, stepsPerEpoch ?? passSteps);
      plan = {
        epochs: fit.epochs,
        stepsPerEpoch,
        batchSize: run.batchSize,
        totalSteps: fit.totalSteps,
        endAfterStep: fit.endAfterStep,
        datasetSize: data.train.count,
        budgetSeconds: run.minutes * 60,
        plannedTrainSeconds: p.plannedTrainSeconds,
        plannedTotalSeconds: p.plannedTotalSeconds,
        stepSeconds: p.stepSeconds,
        monitorSeconds: p.monitorSeconds,
        finalSeconds: p.finalSeconds,
        reason: p.reason,
      };
      io.err(
        `speed: ${speed.trainImagesPerSecond.toFixed(1)} training images/s, ${speed.inferImagesPerSecond.toFixed(0)} inference images/s; ` +
          `plan: ${fit.endAfterStep} steps (${p.reason}; up to ${plan.totalSteps} if the run is faster than measured), training ≈ ${Math.round(p.plannedTrainSeconds)} s, whole job ≈ ${Math.round(p.plannedTotalSeconds)} s`,
      );
    }
    const record: RunRecord = {
      tool: 'tfjs-moco',
      command: 'pretrain',
      createdAt: new Date().toISOString(),
      run,
      moco: moco.config as Record<string, unknown>,
      plan,
      speed,
      backend,
      data: { spec: data.spec, train: describeSet(data.train), test: data.test ? describeSet(data.test) : undefined, heldOut: data.heldOut },
    };
    await writeFile(join(out, CONFIG_FILE), JSON.stringify(record, null, 2) + '\n');
    return await trainAndReport({ moco, record, data, out, io, started, stopAfter: flags.stopAfter, fresh: true, budget: run.epochs === undefined });
  } finally {
    moco?.dispose();
    backbone.dispose();
  }
}

export interface ResumeFlags {
  out: string;
  backend?: RunConfig['backend'];
  stopAfter?: number;
}

export async function resumeCommand(flags: ResumeFlags, io: CliIo): Promise<number> {
  const started = performance.now();
  const out = resolve(flags.out);
  let record: RunRecord;
  try {
    record = JSON.parse(await readFile(join(out, CONFIG_FILE), 'utf8')) as RunRecord;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `no ${CONFIG_FILE}: not a folder written by tfjs-moco pretrain` : code === 'ENOTDIR' ? 'is a file, not a run folder' : `cannot read ${CONFIG_FILE} (${(err as Error).message})`;
    throw new CliError(`--out ${out}: ${why}`);
  }
  if (record?.tool !== 'tfjs-moco' || !record.run || !record.plan) throw new CliError(`--out ${out}: ${CONFIG_FILE} is not a tfjs-moco run record`);
  const run = resolveRunConfig(record.run as unknown as Record<string, unknown>, join(out, CONFIG_FILE));
  run.workers = defaultWorkers(run.workers, Boolean(io.pluginModules?.length));
  const manifest = await readCheckpointManifest(join(out, CHECKPOINT_DIR)).catch((err: unknown) => {
    if (!(err instanceof CheckpointError)) throw err;
    const absent = err.problem.startsWith('no checkpoint here');
    throw new CliError(
      absent
        ? `--out ${out}: ${err.problem}; nothing to resume (the run stopped before its first checkpoint: start it again with pretrain --overwrite)`
        : `--out ${out}: the checkpoint is damaged: ${err.message}`,
    );
  });
  const { step: at, epoch } = manifest.position;
  const finished = at >= record.plan.totalSteps;
  if (finished && (await runState(out)) === 'finished' && (await fileExists(join(out, RESULTS_FILE)))) {
    io.out(`${out}: the run already finished (step ${at} of ${record.plan.totalSteps}, results in ${RESULTS_FILE}); nothing to resume`);
    return 0;
  }
  io.err(
    finished
      ? `${out}: training finished at step ${at}; evaluating and reporting`
      : `resuming ${out} at step ${at} of ${record.plan.totalSteps} (epoch ${Math.min(epoch + 1, record.plan.epochs)}/${record.plan.epochs})`,
  );
  const backend = await useBackend(flags.backend ?? run.backend, true, io.err);
  const data = await loadData(run.data, (m) => io.err(`warning: ${m}`));
  const shape: [number, number, number] = [data.train.height, data.train.width, data.train.channels];
  const backbone = buildEncoder(run.model, shape);
  let moco: Moco;
  try {
    moco = await resumeMoco(join(out, CHECKPOINT_DIR), {
      plugins: io.plugins,
      backbone,
      // The checkpoint must be this run's: config.json's MoCo config, this encoder, this data, this batch size.
      expect: { config: record.moco, backbone, data: { identity: run.data, size: data.train.count }, batchSize: record.plan.batchSize },
      warn: (m) => io.err(`warning: ${m}`),
    });
  } catch (err) {
    backbone.dispose();
    if (err instanceof CheckpointError) throw new CliError(`--out ${out}: ${err.message}`);
    throw err;
  }
  try {
    return await trainAndReport({ moco, record: { ...record, run, backend }, data, out, io, started, stopAfter: flags.stopAfter });
  } finally {
    const backbone = moco.backbone;
    moco.dispose();
    backbone.dispose();
  }
}

interface Job {
  moco: Moco;
  record: RunRecord;
  data: LoadedData;
  out: string;
  io: CliIo;
  started: number;
  stopAfter?: number;
  /** A new run: events.jsonl starts empty (a resume appends to it). */
  fresh?: boolean;
  /** This invocation planned from a measured speed against a budget: re-plan during the run. */
  budget?: boolean;
}

/** Train to the planned end (from wherever the run is), then export, evaluate and report. */
async function trainAndReport(job: Job): Promise<number> {
  const { moco, record, data, out, io } = job;
  const { run, plan } = record;
  const events = createWriteStream(join(out, EVENTS_FILE), { flags: job.fresh ? 'w' : 'a' });
  const writeEvent = (e: unknown) => events.write(JSON.stringify(e) + '\n');
  const view = new ProgressView(io);
  const subscription = moco.events$.subscribe((e) => {
    writeEvent(e);
    view.handle(e);
  });
  const labelled = data.test !== undefined && data.train.labels !== undefined;
  const subsetOf = (set: ImageSet, perClass: number) => (perClass === 0 ? set : stratifiedSubset(set, perClass, run.seed));
  if (run.knnEvery > 0 && labelled) {
    attachKnnMonitor(moco, {
      every: run.knnEvery,
      train: subsetOf(data.train, run.monitor.trainPerClass),
      test: subsetOf(data.test!, run.monitor.testPerClass),
      k: run.monitor.k,
      temperature: run.monitor.temperature,
    });
  }
  moco.checkpointOptions = { metadata: { runDir: out, data: run.data }, data: { identity: run.data, size: data.train.count } };
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    view.line('stopping after this step and saving a checkpoint (Ctrl-C again to abort)...');
    moco.stop();
  };
  process.on('SIGINT', onSigint);
  let reason = 'completed' as 'completed' | 'stopped';
  const ended = moco.on('run-ended').subscribe((e) => (reason = e.reason));
  // A budgeted run (planned from measured speed, first invocation only: a resume has no budget of its own)
  // re-plans its end from its own step times; a resumed run keeps the end its first invocation revised to.
  const stepsPerEpoch = plan.stepsPerEpoch ?? Math.ceil(plan.datasetSize / plan.batchSize);
  if (plan.endAfterStep !== undefined) moco.endAfter(plan.endAfterStep);
  view.endAt(plan.endAfterStep, stepsPerEpoch);
  if (job.budget && plan.budgetSeconds && plan.stepSeconds && plan.monitorSeconds !== undefined && plan.finalSeconds !== undefined) {
    const labelledMonitor = run.knnEvery > 0 && labelled;
    const replanner = new BudgetReplanner({
      budgetSeconds: plan.budgetSeconds,
      now: () => (performance.now() - job.started) / 1000,
      plannedTotalSteps: plan.totalSteps,
      plannedEndStep: plan.endAfterStep,
      plannedStepSeconds: plan.stepSeconds,
      monitorSeconds: plan.monitorSeconds,
      finalSeconds: plan.finalSeconds,
      evalsAfter: (step, end) => (labelledMonitor ? monitorEvalsAfter(step, end, stepsPerEpoch, run.knnEvery) : 0),
    });
    let lastSaid = plan.endAfterStep ?? plan.totalSteps;
    const plannedEnd = lastSaid;
    moco.on('step').subscribe((e) => {
      const end = replanner.onStep(e.step + 1, e.batchSize / e.imagesPerSecond);
      if (end === undefined) return;
      moco.endAfter(end < plan.totalSteps ? end : undefined);
      plan.endAfterStep = end < plan.totalSteps ? end : undefined;
      view.endAt(end, stepsPerEpoch);
      // Said when the end moves by 2 % of the plan or more, not at every one-step change.
      if (Math.abs(end - lastSaid) >= Math.max(1, 0.02 * plan.totalSteps)) {
        view.line(`re-planned at step ${e.step + 1}: the run now ends after step ${end} (planned ${plannedEnd}, at most ${plan.totalSteps}; steps take ${(e.batchSize / e.imagesPerSecond).toFixed(2)} s, planned ${plan.stepSeconds!.toFixed(2)} s)`);
        lastSaid = end;
      }
    });
    // The revised end goes into config.json with each checkpoint's epoch boundary, so `resume` ends there too.
    moco.addEpochTask(async () => {
      await writeFile(join(out, CONFIG_FILE), JSON.stringify(record, null, 2) + '\n');
    });
  }
  if (job.stopAfter !== undefined) {
    const limit = job.stopAfter;
    moco.on('step').subscribe((e) => e.step + 1 >= limit && moco.stop());
  }
  try {
    try {
      await moco.fit(resumableImageDataset(data.train, { seed: run.seed }), {
        epochs: plan.epochs,
        batchSize: plan.batchSize,
        stepsPerEpoch: plan.stepsPerEpoch,
        checkpointDir: join(out, CHECKPOINT_DIR),
        checkpointEvery: run.checkpointEvery,
        ...parallelOptions(run, io),
      });
    } catch (err) {
      if (!(err instanceof NonFiniteLossError)) throw err;
      // A diverged run: no model, no results (nothing that looks like success); the report says what happened.
      view.stop();
      await diverged(job, err, events);
      throw new CliError(`${oneLine(err)}. No model or results were written; the checkpoint in ${join(out, CHECKPOINT_DIR)} is from before step ${err.step}`, DIVERGED_EXIT_CODE);
    }
    view.stop();
    const encoder = moco.exportEncoder();
    await saveModel(encoder, out);
    const step = moco.position.step;
    let final: EncoderEvaluation | undefined;
    let finalNote: string | undefined;
    let summary: string | undefined;
    if (reason === 'stopped') {
      finalNote = `Stopped at step ${step} of ${plan.totalSteps}; continue with \`tfjs-moco resume --out ${out}\`.`;
    } else if (!labelled) {
      finalNote = 'The data has no labels: no kNN or linear-probe evaluation.';
    } else {
      io.err('final evaluation (kNN and linear probe, with baselines)...');
      const t0 = performance.now();
      ({ result: final } = await evaluateWithCachedBaselines({
        encoder,
        ...finalEvaluationSets(run, data),
        knn: { k: run.evaluation.k, temperature: run.evaluation.temperature },
        probe: run.evaluation.probe,
        cacheDir: run.evaluation.cacheBaselines ? baselineCacheDir() : null,
        log: (m) => io.err(m),
      }));
      io.err(`final evaluation: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      const baselines = (b: { randomInit: number | null; rawPixels: number | null }) => ({ randomInit: b.randomInit ?? NaN, rawPixels: b.rawPixels ?? NaN });
      const epoch = moco.position.epoch - 1;
      writeEvent({ type: 'evaluation', epoch, step, metric: 'final-knn', accuracy: final.knn.encoder, baselines: { ...baselines(final.knn), rawPixelsCentered: final.knn.rawPixelsCentered ?? NaN } });
      if (final.linear) writeEvent({ type: 'evaluation', epoch, step, metric: 'final-linear', accuracy: final.linear.encoder, baselines: baselines(final.linear) });
      const full = run.evaluation.trainPerClass === 0 && run.evaluation.testPerClass === 0;
      summary = summaryLine(final, splitLabel(final, full));
      await writeFile(join(out, RESULTS_FILE), JSON.stringify({ step, split: full ? 'full' : 'subset', summary, ...final }, null, 2) + '\n');
    }
    await new Promise<void>((res, rej) => events.end((err?: Error | null) => (err ? rej(err) : res())));
    const allEvents = await readEvents(join(out, EVENTS_FILE));
    const seconds = (performance.now() - job.started) / 1000;
    const facts: [string, string][] = [
      ['data', `${record.data.train}${record.data.test ? `; evaluated on ${record.data.test}` : ''}`],
      ['encoder', `${run.model.name}${run.model.width ? ` (width ${run.model.width})` : ''}, ${countParams(encoder)} parameters`],
      ['backend', `${record.backend.name} (${record.backend.package})${run.workers > 1 ? `, ${run.workers} workers (data parallel)` : ''}`],
      ['schedule', `${plan.epochs} epochs × ${plan.stepsPerEpoch ?? Math.ceil(plan.datasetSize / plan.batchSize)} steps of batch ${plan.batchSize} = ${plan.totalSteps} steps (${plan.reason})${plan.endAfterStep !== undefined ? `; ends after step ${plan.endAfterStep}, the budget's end as re-planned during the run` : ''}`],
      ['MoCo', describeMoco(moco)],
      ['wall time (this invocation)', `${seconds.toFixed(0)} s${plan.plannedTotalSeconds ? ` (planned ${plan.plannedTotalSeconds.toFixed(0)} s)` : ''}`],
    ];
    if (record.speed) facts.push(['measured speed', `${record.speed.trainImagesPerSecond.toFixed(1)} training images/s`]);
    await writeFile(join(out, 'report.md'), reportMarkdown({ title: `tfjs-moco pretraining: ${run.data}`, facts, events: allEvents, final, summary, finalNote }));
    // The plot needs the optional packages vega and vega-lite: without them the run still ends well, minus the SVG.
    await renderSvg(reportSpec(allEvents)).then(
      (svg) => writeFile(join(out, 'report.svg'), svg),
      (err) => (err instanceof CliError ? io.err(`report.svg not written: ${err.message}`) : Promise.reject(err)),
    );
    if (final) {
      const f = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(2)} %`);
      io.out(`kNN: ${f(final.knn.encoder)} (random init ${f(final.knn.randomInit)}, raw pixels ${f(final.knn.rawPixels)}, centred pixels ${f(final.knn.rawPixelsCentered)})`);
      if (final.linear) io.out(`linear probe: ${f(final.linear.encoder)} (random init ${f(final.linear.randomInit)}, raw pixels ${f(final.linear.rawPixels)})`);
      if (summary) io.out(summary);
    }
    if (reason === 'stopped') io.out(`stopped at step ${step} of ${plan.totalSteps}; continue with: tfjs-moco resume --out ${out}`);
    io.out(`wrote ${out} (model.json, weights.bin, config.json, events.jsonl, checkpoint/, report.md, report.svg) in ${seconds.toFixed(0)} s`);
    return reason === 'stopped' && interrupted ? 130 : 0;
  } finally {
    view.stop();
    process.off('SIGINT', onSigint);
    subscription.unsubscribe();
    ended.unsubscribe();
    if (!events.closed) events.end();
  }
}

/** report.md of a run stopped by a non-finite step: the steps trained, the step that diverged, and why. */
async function diverged(job: Job, err: NonFiniteLossError, events: ReturnType<typeof createWriteStream>): Promise<void> {
  const { out, record } = job;
  await new Promise<void>((res, rej) => events.end((e?: Error | null) => (e ? rej(e) : res())));
  const allEvents = await readEvents(join(out, EVENTS_FILE));
  const saved = await readCheckpointManifest(join(out, CHECKPOINT_DIR)).then(
    (m) => `the last checkpoint (step ${m.position.step}) is intact`,
    () => 'no checkpoint was written before it',
  );
  const finalNote = `Stopped: ${err.message}. No encoder or results were written; ${saved}.`;
  await writeFile(
    join(out, 'report.md'),
    reportMarkdown({ title: `tfjs-moco pretraining: ${record.run.data} (diverged)`, facts: [['MoCo', describeMoco(job.moco)]], events: allEvents, finalNote }),
  );
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

async function readEvents(path: string): Promise<MocoEvent[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MocoEvent);
}

function countParams(model: tfl.LayersModel): string {
  return model.countParams().toLocaleString('en-US');
}

/** One line of the run's MoCo settings, from the typed resolved config and each strategy's own description. */
function describeMoco(moco: Moco): string {
  const { optimizer, head } = moco.resolved.trainer;
  const s = moco.describeStrategies();
  return [
    s.dictionary,
    s.update,
    s.loss,
    `lr ${optimizer.learningRate} ${optimizer.schedule}`,
    `wd ${optimizer.weightDecay}`,
    s.normalization,
    `${head.type} head ${head.dim}-d`,
    `augmentation ${s.augmentation}`,
  ].join(', ');
}
