import type { z } from 'zod';
import type { ModelFacts } from '../strategies/normalization-strategy.js';
import type { StrategyFamily, StrategyOf } from './strategy-family.js';

/** The strategies chosen for a run, as a factory's `check` sees them. */
export interface StrategyChoice {
  readonly ids: { readonly [F in StrategyFamily]: string };
  readonly options: { readonly [F in StrategyFamily]: Readonly<Record<string, unknown>> };
  readonly model?: ModelFacts;
}

/**
 * What a plugin binds: a named strategy with a validated options schema. `create` is called once per
 * run with the options parsed by `options` (defaults filled in), so a strategy never sees bad input.
 */
export interface StrategyFactory<F extends StrategyFamily = StrategyFamily, O extends object = any> {
  readonly family: F;
  readonly id: string;
  /** One line for `--help`, README and error messages. */
  readonly description: string;
  /** A zod object schema for the options (without `id`); use `.strict()` so typos are refused. */
  readonly options: z.ZodType<O>;
  create(options: O): StrategyOf[F];
  /** A reason this strategy cannot work with the other choices (refused at config load), or undefined. */
  check?(choice: StrategyChoice, options: O): string | undefined;
}

/** Typed helper for writing a factory. */
export function defineStrategy<F extends StrategyFamily, O extends object>(factory: StrategyFactory<F, O>): StrategyFactory<F, O> {
  return factory;
}
