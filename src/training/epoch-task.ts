import type { MocoEvent } from '../events/moco-event.js';

/** What an epoch task sees: the epoch just finished, and a way to publish events (e.g. an `evaluation`). */
export interface EpochTaskContext {
  /** The epoch just finished, 0-based. */
  readonly epoch: number;
  /** Epochs planned for this fit. */
  readonly epochs: number;
  /** Optimizer steps done so far. */
  readonly step: number;
  emit(event: MocoEvent): void;
}

/**
 * Work done at the end of every epoch, awaited before the next epoch starts (so it never races training):
 * evaluation, logging, early stopping (call `requestStop`). A task that throws ends the run with an error.
 */
export type EpochTask = (ctx: EpochTaskContext) => void | Promise<void>;

/**
 * A data set that wants to know which epoch it is about to serve: the fit loop calls `setEpoch(epoch)` before
 * every epoch's iterator (like PyTorch's `DistributedSampler.set_epoch`), so a seeded shuffle can depend on
 * the epoch number alone and a resumed run sees the same order as an uninterrupted one.
 */
export interface EpochAwareDataset {
  setEpoch(epoch: number): void;
}
