/**
 * Everything the trainer reports, as one discriminated union on `type`. Events carry plain numbers and
 * strings, never tensors: subscribers run synchronously inside the run, and a tensor would be disposed
 * (or leaked) by the step that made it.
 */
export type MocoEvent =
  | RunStartedEvent
  | StepEvent
  | EpochEndedEvent
  | EvaluationEvent
  | CheckpointSavedEvent
  | WarningEvent
  | RunEndedEvent
  | ErrorEvent;

export interface RunStartedEvent {
  readonly type: 'run-started';
  /** The fully resolved config: preset merged, every default filled in. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Backend running the math, e.g. 'cpu', 'wasm', 'tensorflow'. */
  readonly backend: string;
  readonly epochs: number;
  readonly batchSize: number;
  /** Optimizer steps planned, when the data set's size is known. */
  readonly totalSteps?: number;
  readonly datasetSize?: number;
  /** Step the run starts from (non-zero when resumed). */
  readonly startStep: number;
  readonly startEpoch: number;
}

export interface StepEvent {
  readonly type: 'step';
  readonly epoch: number;
  /** Global step, 0-based: the optimizer update just made is number `step`. */
  readonly step: number;
  readonly stepInEpoch: number;
  readonly batchSize: number;
  readonly loss: number;
  /** (K+1)-way top-1 accuracy of the pretext task. */
  readonly pretextAccuracy: number;
  readonly learningRate: number;
  /** Momentum m of the key encoder's EMA, when the update rule has one. */
  readonly keyEncoderMomentum?: number;
  /** Share of the dictionary holding real keys, in [0, 1]. */
  readonly dictionaryFill: number;
  readonly dictionarySize: number;
  readonly imagesPerSecond: number;
  readonly progress: number;
  /** L2 norm of the step's gradients (all of f_q's, before weight decay). */
  readonly gradientNorm?: number;
  /**
   * True when the step's numbers were not finite and the fit's `nonFinite.policy` is 'skip': its update was not
   * applied (loss and accuracy are then NaN or ±Infinity, `null` in JSON).
   */
  readonly skipped?: boolean;
}

export interface EpochEndedEvent {
  readonly type: 'epoch-ended';
  readonly epoch: number;
  readonly steps: number;
  readonly meanLoss: number;
  readonly meanPretextAccuracy: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export interface EvaluationEvent {
  readonly type: 'evaluation';
  readonly epoch: number;
  readonly step: number;
  /** e.g. 'knn' or 'linear-probe'. */
  readonly metric: string;
  readonly accuracy: number;
  /** The same metric for the baselines of the same run, when computed. */
  readonly baselines?: Readonly<Record<string, number>>;
}

export interface CheckpointSavedEvent {
  readonly type: 'checkpoint-saved';
  readonly epoch: number;
  readonly step: number;
  readonly path: string;
}

export interface WarningEvent {
  readonly type: 'warning';
  readonly message: string;
}

export interface RunEndedEvent {
  readonly type: 'run-ended';
  readonly reason: 'completed' | 'stopped';
  readonly epochs: number;
  readonly steps: number;
  readonly seconds: number;
}

export interface ErrorEvent {
  readonly type: 'error';
  readonly message: string;
  readonly step?: number;
}

export type MocoEventType = MocoEvent['type'];
export type MocoEventOf<T extends MocoEventType> = Extract<MocoEvent, { type: T }>;
