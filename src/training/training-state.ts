// A run's state as one typed value: what a checkpoint stores and what starts a data-parallel replica.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { StrategyFamily } from '../registry/strategy-family.js';
import type { StrategyState } from '../strategies/step-context.js';

/** The plan of the last `fit`, with sizes worked out: saved in checkpoints so a resumed run ends where planned. */
export interface FitPlan {
  readonly epochs: number;
  readonly batchSize: number;
  readonly stepsPerEpoch?: number;
  readonly datasetSize?: number;
  readonly totalSteps?: number;
}

/** What the dictionary was set up with (saved in checkpoints: a restored dictionary is set up the same way). */
export interface DictionarySetupInfo {
  readonly dim: number;
  readonly batchSize: number;
  readonly datasetSize?: number;
  readonly totalSteps?: number;
}

/** Where a run is. */
export interface TrainingPosition {
  /** 0-based epoch in progress. */
  readonly epoch: number;
  /** Steps done within `epoch` (a resumed run skips that many batches of it). */
  readonly stepInEpoch: number;
  /** Optimizer steps done. */
  readonly step: number;
}

/** A weight by the name it has in its model (`originalName`). */
export interface NamedWeight {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

/**
 * Everything needed to continue a run as if it never stopped. From `snapshot()` the tensors are the run's own
 * (read them, do not keep or dispose them); `restore()` copies them in.
 */
export interface TrainingState {
  readonly plan: FitPlan | undefined;
  readonly position: TrainingPosition;
  /** The state of the run's seeded generator. */
  readonly randomState: number;
  /** Undefined until the dictionary is set up (the first fit). */
  readonly dictionarySetup: DictionarySetupInfo | undefined;
  readonly encoders: { readonly query: readonly NamedWeight[]; readonly key: readonly NamedWeight[] | undefined };
  /** SGD: its step count and one velocity accumulator per trainable weight (none before the first step). */
  readonly optimizer: { readonly className: string; readonly iterations: number; readonly accumulators: readonly tf.Tensor[] };
  /** The state of every strategy that has one, with the strategy's id. */
  readonly strategies: Partial<Record<StrategyFamily, { readonly id: string; readonly state: StrategyState }>>;
}

/** A run whose state can be taken and put back (checkpoints, replicas). */
export interface Checkpointable {
  /** The resolved config the run was created with: a state belongs to runs of this config only. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The user's backbone (its topology is stored so a run can be rebuilt without it). */
  readonly backbone: tfl.LayersModel;
  /** The current state (builds the encoders first if no fit has run yet). */
  snapshot(): Promise<TrainingState>;
  /** Replace the run's state by `state`, after checking it fits this run (same encoders, same strategies). */
  restore(state: TrainingState): Promise<void>;
}
