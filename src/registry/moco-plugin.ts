import { ContainerModule, type ContainerModuleLoadOptions } from 'inversify';
import type { StrategyFactory } from './strategy-factory.js';
import { StrategyTokens } from './strategy-family.js';

/**
 * A plugin: a name, a version and an inversify ContainerModule that binds strategy factories to the
 * family tokens. The built-in strategies in `plugins/` are plugins of exactly this shape.
 */
export interface MocoPlugin {
  readonly name: string;
  readonly version: string;
  readonly module: ContainerModule;
}

/** Bind factories to their family tokens inside a ContainerModule callback. */
export function bindStrategies(options: ContainerModuleLoadOptions, factories: readonly StrategyFactory[]): void {
  for (const f of factories) options.bind(StrategyTokens[f.family]).toConstantValue(f);
}

/** The common case: a plugin that only contributes strategies. */
export function strategyPlugin(name: string, version: string, factories: readonly StrategyFactory[]): MocoPlugin {
  return { name, version, module: new ContainerModule((options) => bindStrategies(options, factories)) };
}
