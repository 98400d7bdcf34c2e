// The state of one MoCo run: its networks (f_q, f_k, SGD), strategy instances, seeded generator, position and
// plan. The fit loop (fit-loop.ts) moves it forward; checkpoints take and restore it as a TrainingState.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainerConfig } from '../config/moco-config.js';
import type { EventStream } from '../events/event-stream.js';
import type { Random } from '../random/random.js';
import type { RunWarnings } from '../events/run-warnings.js';
import type { RunCapabilities } from '../strategies/capabilities.js';
import { STRATEGY_FAMILIES, type StrategyFamily } from '../registry/strategy-family.js';
import type { StrategyState } from '../strategies/step-context.js';
import { copyWeightsByLayerName } from '../step/moco-encoders.js';
import { buildNetworks, disposeNetworks, type MocoNetworks } from '../step/moco-networks.js';
import { MocoStep, type Strategies } from '../step/moco-step.js';
import type { Checkpointable, DictionarySetupInfo, FitPlan, NamedWeight, TrainingPosition, TrainingState } from './training-state.js';

/** A strategy that can save and restore its state (every dictionary; an update rule optionally; any other). */
interface Stateful {
  readonly id: string;
  state?(): StrategyState;
  loadState?(state: StrategyState): void;
}

export class MocoTrainer implements Checkpointable {
  readonly random: Random;
  private networks: MocoNetworks | undefined;
  private mocoStep: MocoStep | undefined;
  private at: { epoch: number; stepInEpoch: number; step: number } = { epoch: 0, stepInEpoch: 0, step: 0 };
  private fitPlan: FitPlan | undefined;
  private dictionaryInfo: DictionarySetupInfo | undefined;

  constructor(
    readonly backbone: tfl.LayersModel,
    readonly settings: TrainerConfig,
    readonly strategies: Strategies,
    readonly events: EventStream,
    /** The resolved config (preset merged, defaults filled in): what `run-started` reports and a checkpoint stores. */
    readonly config: Readonly<Record<string, unknown>>,
    /** What the strategies declared they can do or need (the trainer asks these, never ids). */
    readonly capabilities: RunCapabilities,
    /** The run's services, the same objects the strategies were given by injection. */
    private readonly services: { readonly random: Random; readonly warnings: RunWarnings },
  ) {
    this.random = services.random;
  }

  /** Whether keys come from a separate key encoder (MoCo) rather than the query encoder or a memory bank. */
  get usesKeyEncoder(): boolean {
    return !this.capabilities.dictionary.providesPositives && this.capabilities.update.keySource === 'key-encoder';
  }

  /** Build the encoders and optimizer (once). The head's initial weights are seeded from the run's seed. */
  async build(): Promise<MocoStep> {
    if (!this.mocoStep) {
      this.networks = await buildNetworks(this.backbone, this.settings, this.strategies.normalization, this.usesKeyEncoder);
      this.mocoStep = new MocoStep(this.networks, this.strategies, this.settings.optimizer.weightDecay, this.capabilities);
    }
    return this.mocoStep;
  }

  /** The training step over this run's networks; undefined before `build`. */
  get step(): MocoStep | undefined {
    return this.mocoStep;
  }

  get position(): TrainingPosition {
    return { ...this.at };
  }

  /** Count one optimizer step done. */
  stepDone(): void {
    this.at.step++;
    this.at.stepInEpoch++;
  }

  /** Count the current epoch done; the next starts at its first batch. */
  epochDone(): void {
    this.at.epoch++;
    this.at.stepInEpoch = 0;
  }

  /** The last fit's plan (undefined before the first fit or restore). */
  get plan(): FitPlan | undefined {
    return this.fitPlan;
  }

  set plan(plan: FitPlan | undefined) {
    this.fitPlan = plan;
  }

  /** Whether the dictionary has allocated its state (done once, at the first fit or a restore). */
  get dictionaryIsReady(): boolean {
    return this.dictionaryInfo !== undefined;
  }

  /**
   * Set the dictionary up (once), drawing its initial state from the run's generator (injected as RunRandom).
   * `warn`: where the setup's warnings go instead of `events$` (a restore silences them).
   */
  prepareDictionary(info: DictionarySetupInfo, warn?: (message: string) => void): void {
    const setup = () => this.strategies.dictionary.setup?.({ ...info });
    if (warn) this.services.warnings.redirected(warn, setup);
    else setup();
    this.dictionaryInfo = { ...info };
  }

  /** Copy the trained backbone weights into a model with the backbone's layer names (e.g. the user's). */
  exportInto(backbone: tfl.LayersModel): tfl.LayersModel {
    if (this.networks) copyWeightsByLayerName(this.networks.query, backbone);
    return backbone;
  }

  get query(): tfl.LayersModel | undefined {
    return this.networks?.query;
  }

  get key(): tfl.LayersModel | undefined {
    return this.networks?.key;
  }

  async snapshot(): Promise<TrainingState> {
    await this.build();
    const { query, key, optimizer } = this.networks!;
    const named = (model: tfl.LayersModel): NamedWeight[] => model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
    // [iterations, accumulator 0, 1, ...]; the accumulators exist only after the first step (tfjs makes them lazily).
    const [iterationsEntry, ...accumulators] = await optimizer.getWeights();
    const iterations = (await iterationsEntry.tensor.data())[0];
    iterationsEntry.tensor.dispose();
    const strategies: TrainingState['strategies'] = {};
    for (const family of STRATEGY_FAMILIES) {
      const s = this.strategies[family] as Stateful;
      // The dictionary has no state before setup (the first fit): nothing to save yet.
      if (family === 'dictionary' && !this.dictionaryIsReady) continue;
      if (typeof s.state === 'function') strategies[family] = { id: s.id, state: s.state() };
    }
    return {
      plan: this.fitPlan,
      position: this.position,
      randomState: this.random.getState(),
      dictionarySetup: this.dictionaryInfo,
      encoders: { query: named(query), key: key ? named(key) : undefined },
      optimizer: { className: optimizer.getClassName(), iterations, accumulators: accumulators.map((a) => a.tensor) },
      strategies,
    };
  }

  async restore(state: TrainingState): Promise<void> {
    await this.build();
    const { query, key, optimizer, trainable } = this.networks!;
    // Check everything before changing anything.
    const checkModel = (role: 'query' | 'key', model: tfl.LayersModel, saved: readonly NamedWeight[]) => {
      if (saved.length !== model.weights.length) {
        throw new Error(`the ${role} encoder has ${model.weights.length} weights, the saved state ${saved.length}: not the same backbone or head`);
      }
      model.weights.forEach((w, i) => {
        if (!tf.util.arraysEqual(w.shape as number[], saved[i].tensor.shape)) {
          throw new Error(`${role} weight ${i} '${w.originalName}' has shape [${w.shape}], the saved '${saved[i].name}' [${saved[i].tensor.shape}]`);
        }
      });
    };
    checkModel('query', query, state.encoders.query);
    if (key) {
      if (!state.encoders.key) throw new Error('the run has a key encoder, the saved state none');
      checkModel('key', key, state.encoders.key);
    }
    const n = state.optimizer.accumulators.length;
    if (n !== 0 && n !== trainable.length) throw new Error(`${n} optimizer accumulators for ${trainable.length} trainable weights`);
    const families = Object.keys(state.strategies) as StrategyFamily[];
    for (const family of families) {
      const s = this.strategies[family] as Stateful;
      const saved = state.strategies[family]!;
      if (s.id !== saved.id) throw new Error(`${family} strategy is '${s.id}', the saved state's '${saved.id}'`);
      if (typeof s.loadState !== 'function') throw new Error(`${family} strategy '${s.id}' cannot load state`);
      if (family === 'dictionary' && !this.dictionaryIsReady && !state.dictionarySetup) throw new Error('dictionary state without its setup');
    }

    query.setWeights(state.encoders.query.map((w) => w.tensor));
    if (key) key.setWeights(state.encoders.key!.map((w) => w.tensor));
    // Optimizer: replace any accumulators by the saved ones (same order: the trainable weights').
    const current = await optimizer.getWeights();
    tf.dispose(current.map((w) => w.tensor));
    const iterations = tf.scalar(state.optimizer.iterations, 'int32');
    // tfjs names SGD's velocity accumulators '<variable>/momentum'.
    const accumulators = state.optimizer.accumulators.map((tensor, i) => ({ name: `${trainable[i].name}/momentum`, tensor }));
    await optimizer.setWeights([{ name: 'iter', tensor: iterations }, ...accumulators]);
    iterations.dispose();
    // The dictionary is set up as it was (that draws from the generator, restored below), then loaded.
    for (const family of families) {
      const saved = state.strategies[family]!;
      if (family === 'dictionary' && !this.dictionaryIsReady) this.prepareDictionary(state.dictionarySetup!, () => undefined);
      (this.strategies[family] as Stateful).loadState!(saved.state);
    }
    this.random.setState(state.randomState);
    this.at = { ...state.position };
    if (state.plan) this.fitPlan = { ...state.plan };
    this.exportInto(this.backbone);
  }

  /** Free every tensor the run owns (encoders' copies, optimizer state, dictionary). The backbone stays. */
  dispose(): void {
    if (this.networks) disposeNetworks(this.networks);
    this.strategies.dictionary.dispose?.();
  }
}
