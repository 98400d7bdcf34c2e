import type { Newable } from 'inversify';
import type { z } from 'zod';
import type { CapabilitiesOf, RunCapabilities } from '../strategies/capabilities.js';
import type { ModelFacts } from '../strategies/normalization-strategy.js';
import type { StrategyFamily, StrategyOf } from './strategy-family.js';

/** The strategies chosen for a run, as a factory's `check` sees them. */
export interface StrategyChoice {
  readonly ids: { readonly [F in StrategyFamily]: string };
  readonly options: { readonly [F in StrategyFamily]: Readonly<Record<string, unknown>> };
  /** What each chosen strategy declares it can do or needs: decide compatibility by these, not by ids. */
  readonly capabilities: RunCapabilities;
  readonly model?: ModelFacts;
}

/**
 * What a plugin binds: a named strategy with a validated options schema. The strategy is made once per
 * run, from the options parsed by `options` (defaults filled in), so a strategy never sees bad input:
 * - `strategy`: an `@injectable()` class, built by the run's container, which injects its options
 *   (`@inject(StrategyOptions)`) and any run service (`RunRandom`, `WarningSink`, `BackendFacts`);
 * - or `create(options)`, for a strategy that needs no run service.
 *
 * ```ts
 * defineStrategy({
 *   family: 'dictionary',
 *   id: 'fixed',
 *   description: 'a fixed set of negatives',
 *   options: z.object({ count: z.number().int().min(1).default(16) }).strict(),
 *   strategy: FixedDictionary,
 * });
 * ```
 */
export interface StrategyFactory<F extends StrategyFamily = StrategyFamily, O extends object = any> {
  readonly family: F;
  readonly id: string;
  /** One line for `--help`, README and error messages. */
  readonly description: string;
  /** A zod object schema for the options (without `id`); use `.strict()` so typos are refused. */
  readonly options: z.ZodType<O>;
  /** The strategy class, built by the run's container (constructor parameters each with `@inject(TOKEN)`). */
  readonly strategy?: Newable<StrategyOf[F]>;
  /** Or: make the strategy from its options. One of `strategy` and `create` is required. */
  create?(options: O): StrategyOf[F];
  /**
   * What the strategy can do or needs (see `CapabilitiesOf`), fixed or from its options; undeclared
   * fields take the documented defaults.
   */
  readonly capabilities?: Partial<CapabilitiesOf[F]> | ((options: O) => Partial<CapabilitiesOf[F]>);
  /** A reason this strategy cannot work with the other choices (refused at config load), or undefined. */
  check?(choice: StrategyChoice, options: O): string | undefined;
}

/** Typed helper for writing a factory. */
export function defineStrategy<F extends StrategyFamily, O extends object>(factory: StrategyFactory<F, O>): StrategyFactory<F, O> {
  return factory;
}
