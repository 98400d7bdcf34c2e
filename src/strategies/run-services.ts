import type { Random } from '../random/random.js';

/**
 * The services a run hands its strategies by injection: a strategy class marked `@injectable()` asks for
 * any of them with `@inject(TOKEN)` on a constructor parameter, and the registry's per-run container
 * supplies them. Always name the token: the library does not rely on emitted `design:paramtypes`
 * metadata, so injection works the same when the code is bundled (esbuild, tsx) as when compiled by tsc.
 *
 * ```ts
 * @injectable()
 * class MyDictionary implements DictionaryStrategy {
 *   constructor(
 *     @inject(StrategyOptions) readonly options: { size: number },
 *     @inject(RunRandom) private readonly random: Random,
 *     @inject(WarningSink) private readonly warnings: WarningSink,
 *   ) {}
 * }
 * ```
 */

/** Token of the strategy's own options, parsed by its factory's schema (defaults filled in). */
export const StrategyOptions: unique symbol = Symbol.for('tfjs-moco/run/strategy-options');

/**
 * Token of the run's seeded random generator (`Random`): the one whose state a checkpoint saves. Draw
 * set-up randomness from it (initial dictionary contents); draws made during a step come from
 * `StepContext.random`, which a data-parallel worker replaces by its own stream.
 */
export const RunRandom: unique symbol = Symbol.for('tfjs-moco/run/random');

/** Where a strategy reports a non-fatal problem; it reaches `events$` as a `warning` event. */
export interface WarningSink {
  warn(message: string): void;
}
/** Token of the run's `WarningSink`. */
export const WarningSink: unique symbol = Symbol.for('tfjs-moco/run/warnings');

/** Facts about the tfjs backend the run trains on. */
export interface BackendFacts {
  /** The backend's name as tfjs reports it at the time of reading (`tf.getBackend()`): 'wasm', 'cpu', 'tensorflow', ... */
  readonly name: string;
}
/** Token of the run's `BackendFacts`. */
export const BackendFacts: unique symbol = Symbol.for('tfjs-moco/run/backend');

/** Everything a run provides to its strategies. */
export interface RunServices {
  readonly random: Random;
  readonly warnings: WarningSink;
  readonly backend: BackendFacts;
}
