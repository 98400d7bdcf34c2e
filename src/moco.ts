import * as tf from '@tensorflow/tfjs-core';
import type * as tfd from '@tensorflow/tfjs-data';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Observable } from 'rxjs';
import { isResolvedConfig, resolveMocoConfig, type MocoConfigInput, type ResolvedConfig } from './config/moco-config.js';
import { EventStream } from './events/event-stream.js';
import { RunWarnings } from './events/run-warnings.js';
import type { BackendFacts } from './strategies/run-services.js';
import { Random } from './random/random.js';
import type { MocoEvent, MocoEventOf, MocoEventType } from './events/moco-event.js';
import type { MocoPlugin } from './registry/moco-plugin.js';
import { StrategyRegistry } from './registry/strategy-registry.js';
import type { StrategyFamily } from './registry/strategy-family.js';
import { checkBackbone, modelFacts } from './step/moco-encoders.js';
import type { MocoStep, Strategies } from './step/moco-step.js';
import type { EpochTask } from './training/epoch-task.js';
import { FitLoop } from './training/fit-loop.js';
import type { FitOptions } from './training/fit-options.js';
import { MocoTrainer } from './training/moco-trainer.js';
import type { FitPlan, TrainingPosition } from './training/training-state.js';
import { loadCheckpointInto, writeCheckpoint, type CheckpointInfo, type LoadedCheckpoint, type SaveCheckpointOptions } from './checkpoint/checkpoint-io.js';

export interface CreateMocoOptions {
  /** The user's image encoder: images [N,H,W,C] in, features [N,F] out. Its weights are trained in place. */
  readonly backbone: tfl.LayersModel;
  /** Plugins providing the strategies (the built-ins are `builtinPlugins` from 'tfjs-moco/plugins'). */
  readonly plugins: readonly MocoPlugin[];
  /**
   * Strategy choices and trainer settings; omitted fields come from the preset (default: 'default'). Or a
   * config resolved already by `resolveMocoConfig` (against these plugins), used as it is.
   */
  readonly config?: MocoConfigInput | ResolvedConfig;
}

/** A configured MoCo run over one backbone. Create with `createMoco`. */
export class Moco {
  private readonly stream = new EventStream();
  private readonly trainer: MocoTrainer;
  private readonly loop: FitLoop;
  /** Every event of the run, as it happens (synchronously, in subscription order). */
  readonly events$: Observable<MocoEvent>;
  /** The resolved config as plain JSON: preset merged, every default filled in. */
  readonly config: Readonly<Record<string, unknown>>;

  constructor(
    readonly registry: StrategyRegistry,
    /** The run's configuration, typed: read settings from here, not from `config`. */
    readonly resolved: ResolvedConfig,
    backbone: tfl.LayersModel,
  ) {
    this.events$ = this.stream.events$;
    const trainerConfig = resolved.trainer;
    const full = resolved.json as Record<string, unknown>;
    this.config = full;
    // The run's services, injected into its strategies and shared with the trainer.
    const random = new Random(trainerConfig.seed);
    const warnings = new RunWarnings((message) => this.stream.emit({ type: 'warning', message }));
    const backend: BackendFacts = {
      get name() {
        return tf.getBackend();
      },
    };
    const strategies = resolved.strategies.instantiate({ random, warnings, backend });
    this.trainer = new MocoTrainer(backbone, trainerConfig, strategies, this.stream, full, resolved.strategies.capabilities, { random, warnings });
    this.loop = new FitLoop(this.trainer, async (dir) => {
      await this.saveCheckpoint(dir, this.checkpointOptions);
    });
  }

  /** Options for the checkpoints `fit` writes (`checkpointDir`), e.g. metadata to store with them. */
  checkpointOptions: SaveCheckpointOptions = {};

  /** Events of one type, narrowed. */
  on<T extends MocoEventType>(type: T): Observable<MocoEventOf<T>> {
    return this.stream.ofType(type);
  }

  /**
   * Pretrain on a tf.data.Dataset of images ([H,W,C], float32 in [0,1]; int32 is scaled by 1/255) or of
   * `{xs, index}` elements. Resolves with the backbone, trained. Calling it again continues the run.
   */
  fit<T extends tf.TensorContainer>(dataset: tfd.Dataset<T>, options: FitOptions): Promise<tfl.LayersModel> {
    return this.loop.fit(dataset, options);
  }

  /**
   * Save everything needed to continue the run as if it never stopped (both encoders, optimizer state,
   * every strategy's state, position, random generator, config) into the folder `dir`, atomically: a crash
   * mid-save leaves the previous checkpoint there intact. Emits `checkpoint-saved`. Call it between steps
   * (after `fit` resolves, or from an epoch task); `fit({ checkpointDir, checkpointEvery })` does it for you.
   */
  async saveCheckpoint(dir: string, options: SaveCheckpointOptions = {}): Promise<CheckpointInfo> {
    this.assertSafePoint('saveCheckpoint');
    const info = await writeCheckpoint(this.trainer, dir, options);
    this.stream.emit({ type: 'checkpoint-saved', epoch: info.epoch, step: info.step, path: info.path });
    return info;
  }

  /**
   * Restore a checkpoint written by `saveCheckpoint` into this run, which must have been created with the
   * checkpoint's config (`resumeMoco` does that for you). Then `fit` with the same data and options continues
   * where the saved run was: the first `stepInEpoch` batches of the current epoch are skipped.
   */
  async loadCheckpoint(source: string | LoadedCheckpoint): Promise<this> {
    this.assertSafePoint('loadCheckpoint');
    await loadCheckpointInto(this.trainer, source);
    return this;
  }

  private assertSafePoint(what: string): void {
    if (!this.loop.atSafePoint) {
      throw new Error(`${what}: a training step may be running; call it after fit resolves or from an epoch task (addEpochTask), or let fit({ checkpointDir, checkpointEvery }) save`);
    }
  }

  /**
   * Run `task` at the end of every epoch, after the `epoch-ended` event; training waits for it. The task gets
   * the finished epoch and can `emit` events (e.g. an `evaluation`). Returns a function removing the task.
   */
  addEpochTask(task: EpochTask): () => void {
    return this.loop.addEpochTask(task);
  }

  /**
   * End the current fit (or the next one) as completed after `step` optimizer steps in all, before its
   * planned end; undefined drops the revision. The learning-rate schedule then finishes at that step. Used
   * to re-plan a run against a wall-time budget from its own step times (the CLI's pretrain does).
   */
  endAfter(step: number | undefined): void {
    this.loop.endAfter(step);
  }

  /** Ask the run to stop after the current step; `fit` then resolves (run-ended reason 'stopped'). */
  stop(): void {
    this.loop.requestStop();
  }

  /** The backbone with the trained weights (the model passed to createMoco). */
  exportEncoder(): tfl.LayersModel {
    return this.trainer.exportInto(this.trainer.backbone);
  }

  /** The query encoder (backbone + head) being trained; undefined before the first fit. */
  get queryEncoder(): tfl.LayersModel | undefined {
    return this.trainer.query;
  }

  /**
   * One short line per strategy, from its `describe()` (its id when it has none), for logs and reports.
   *
   * ```ts
   * moco.describeStrategies().dictionary; // 'queue K 4096'
   * ```
   */
  describeStrategies(): { readonly [F in StrategyFamily]: string } {
    const s = this.trainer.strategies;
    const line = (x: { id: string; describe?(): string }) => x.describe?.() ?? x.id;
    return { loss: line(s.loss), dictionary: line(s.dictionary), update: line(s.update), normalization: line(s.normalization), augmentation: line(s.augmentation) };
  }

  /** The key encoder f_k (it follows the query encoder by the update rule), when the run has one. */
  get keyEncoder(): tfl.LayersModel | undefined {
    return this.trainer.key;
  }

  /**
   * Build the query and key encoders and the optimizer now (`fit` does it on its first call), e.g. to read
   * `queryEncoder` or drive `trainingStep` by hand. Idempotent.
   *
   * @example
   * await moco.build();
   * console.log(moco.queryEncoder!.countParams());
   */
  async build(): Promise<void> {
    await this.trainer.build();
  }

  /**
   * The run's training step (Algorithm 1 over its encoders, optimizer and strategies), for benchmarks and custom
   * loops; undefined before `build` or the first `fit`. Set the dictionary up first (`prepareDictionary`).
   *
   * @example
   * await moco.build();
   * moco.prepareDictionary({ batchSize: 256 });
   * const stats = moco.trainingStep!.run({ images }, { epoch: 0, step: 0, progress: 0, random: new Random(1) }, 0.03);
   * const [loss, accuracy] = stats.dataSync();
   * stats.dispose();
   */
  get trainingStep(): MocoStep | undefined {
    return this.trainer.step;
  }

  /**
   * Set the dictionary up for batches of `batchSize` images (its initial state drawn from the run's seed). `fit`
   * does it on its first call and a checkpoint load restores it; once done, later calls change nothing.
   *
   * @example
   * moco.prepareDictionary({ batchSize: 256, datasetSize: 50000 });
   */
  prepareDictionary(sizes: { batchSize: number; datasetSize?: number; totalSteps?: number }): void {
    if (this.trainer.dictionaryIsReady) return;
    this.trainer.prepareDictionary({ dim: this.trainer.settings.head.dim, ...sizes });
  }

  /**
   * The run's strategy instances, one per family, e.g. to read the dictionary's state.
   *
   * @example
   * const { queue } = moco.strategies.dictionary.state().tensors;
   */
  get strategies(): Readonly<Strategies> {
    return this.trainer.strategies;
  }

  /** Where the run is: epoch in progress, steps done in it, optimizer steps done (a copy). */
  get position(): TrainingPosition {
    return this.trainer.position;
  }

  /** The plan of the last `fit` (or of the checkpoint loaded): epochs, batch size and the sizes worked out. */
  get plan(): FitPlan | undefined {
    return this.trainer.plan;
  }

  /** The user's backbone, as passed to createMoco (its weights are the trained ones after `fit`). */
  get backbone(): tfl.LayersModel {
    return this.trainer.backbone;
  }

  /** Free every tensor the run owns (encoders' copies, optimizer state, dictionary). The backbone stays. */
  dispose(): void {
    this.trainer.dispose();
    this.stream.complete();
  }
}

/**
 * Load the plugins, validate the config against them and the backbone, and return a ready run.
 * Throws a ConfigError naming the field for any bad option, unknown id or impossible combination.
 */
export function createMoco(options: CreateMocoOptions): Moco {
  if (!options || typeof options !== 'object') throw new TypeError('createMoco: expected { backbone, plugins, config? }');
  checkBackbone(options.backbone);
  if (!Array.isArray(options.plugins)) throw new TypeError('plugins: expected an array of plugins, e.g. builtinPlugins from "tfjs-moco/plugins"');
  const registry = new StrategyRegistry(options.plugins);
  const resolved = isResolvedConfig(options.config) ? options.config : resolveMocoConfig(options.config, registry, modelFacts(options.backbone));
  return new Moco(registry, resolved, options.backbone);
}
