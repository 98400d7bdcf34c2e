import type { AugmentationStrategy } from '../strategies/augmentation-strategy.js';
import type { DictionaryStrategy } from '../strategies/dictionary-strategy.js';
import type { EncoderUpdateStrategy } from '../strategies/encoder-update-strategy.js';
import type { LossStrategy } from '../strategies/loss-strategy.js';
import type { NormalizationStrategy } from '../strategies/normalization-strategy.js';

/** The five strategy families; each is a key of the config and a contribution point of the registry. */
export const STRATEGY_FAMILIES = ['loss', 'dictionary', 'update', 'normalization', 'augmentation'] as const;
export type StrategyFamily = (typeof STRATEGY_FAMILIES)[number];

export interface StrategyOf {
  loss: LossStrategy;
  dictionary: DictionaryStrategy;
  update: EncoderUpdateStrategy;
  normalization: NormalizationStrategy;
  augmentation: AugmentationStrategy;
}

/**
 * One inversify service identifier per family. A plugin contributes a strategy by binding a
 * `StrategyFactory` to its family's token (unconstrained multi-binding, as Theia's contribution points).
 * `Symbol.for` keeps the tokens equal across copies of this package.
 */
export const StrategyTokens: { readonly [F in StrategyFamily]: symbol } = {
  loss: Symbol.for('tfjs-moco/strategy/loss'),
  dictionary: Symbol.for('tfjs-moco/strategy/dictionary'),
  update: Symbol.for('tfjs-moco/strategy/update'),
  normalization: Symbol.for('tfjs-moco/strategy/normalization'),
  augmentation: Symbol.for('tfjs-moco/strategy/augmentation'),
};
