import 'reflect-metadata';
import { Container } from 'inversify';
import { configErrorFromLines, DuplicateStrategyError } from './config-error.js';
import { formatIssues } from './format-issues.js';
import type { MocoPlugin } from './moco-plugin.js';
import { PresetToken, type Preset } from './preset.js';
import type { StrategyChoice, StrategyFactory } from './strategy-factory.js';
import { STRATEGY_FAMILIES, StrategyTokens, type StrategyFamily, type StrategyOf } from './strategy-family.js';
import { DEFAULT_CAPABILITIES, type RunCapabilities } from '../strategies/capabilities.js';
import type { ModelFacts } from '../strategies/normalization-strategy.js';
import { BackendFacts, RunRandom, StrategyOptions, WarningSink, type RunServices } from '../strategies/run-services.js';

interface Entry {
  readonly factory: StrategyFactory;
  readonly plugin: string;
  /** The plugin's own container: what it bound, and where its strategy classes are built. */
  readonly scope: Container;
}

/** A family's section of the config: an id alone, or an id with options. */
export type StrategySection = string | ({ id?: string } & Record<string, unknown>);

/** The outcome of resolving the five sections of a config against the registry. */
export interface ResolvedStrategies {
  readonly choice: StrategyChoice;
  readonly factories: { readonly [F in StrategyFamily]: StrategyFactory<F> };
  readonly capabilities: RunCapabilities;
  /** Create fresh strategy instances (one set per run), injecting the run's services. */
  instantiate(services: RunServices): { [F in StrategyFamily]: StrategyOf[F] };
}

/**
 * Every strategy the loaded plugins contribute, by family and id. Each plugin's ContainerModule is loaded
 * into a container of its own (a child of `container`), so what a plugin bound is exactly what that
 * container holds, and a second binding of the same id can name both plugins. A run's strategies are built
 * in a child of their plugin's container that binds the run's services (see `instantiate`).
 */
export class StrategyRegistry {
  /** The root container; plugin containers are its children and see what is bound here. */
  readonly container = new Container();
  private readonly entries = new Map<StrategyFamily, Map<string, Entry>>(STRATEGY_FAMILIES.map((f) => [f, new Map()]));
  private readonly presets = new Map<string, { preset: Preset; plugin: string }>();
  private readonly plugins: MocoPlugin[] = [];

  constructor(plugins: readonly MocoPlugin[] = []) {
    for (const p of plugins) this.load(p);
  }

  load(plugin: MocoPlugin): void {
    if (!plugin || typeof plugin.name !== 'string' || !plugin.module) {
      throw new TypeError(`plugins: each plugin must be { name, version, module: ContainerModule }; got ${String(plugin)}`);
    }
    if (this.plugins.some((p) => p.name === plugin.name)) {
      throw new Error(`plugins: plugin '${plugin.name}' is loaded twice; pass it once.`);
    }
    const scope = new Container({ parent: this.container });
    scope.load(plugin.module);
    this.plugins.push(plugin);
    for (const family of STRATEGY_FAMILIES) {
      const table = this.entries.get(family)!;
      // Not chained: only this plugin's own bindings, not its parent's.
      for (const factory of scope.getAll<StrategyFactory>(StrategyTokens[family], { optional: true })) {
        if (factory.family !== family) {
          throw new Error(`plugin '${plugin.name}': factory '${factory.id}' says family '${factory.family}' but is bound to '${family}'.`);
        }
        if (!factory.strategy && typeof factory.create !== 'function') {
          throw new Error(`plugin '${plugin.name}': ${family} strategy '${factory.id}' has neither a strategy class nor create(options); give it one.`);
        }
        const prior = table.get(factory.id);
        if (prior) throw new DuplicateStrategyError(family, factory.id, [prior.plugin, plugin.name]);
        table.set(factory.id, { factory, plugin: plugin.name, scope });
      }
    }
    for (const preset of scope.getAll<Preset>(PresetToken, { optional: true })) {
      const prior = this.presets.get(preset.name);
      if (prior) throw new Error(`preset '${preset.name}' is registered twice: by plugin '${prior.plugin}' and by plugin '${plugin.name}'.`);
      this.presets.set(preset.name, { preset, plugin: plugin.name });
    }
  }

  ids(family: StrategyFamily): string[] {
    return [...this.entries.get(family)!.keys()].sort();
  }

  presetNames(): string[] {
    return [...this.presets.keys()].sort();
  }

  preset(name: string): Preset | undefined {
    return this.presets.get(name)?.preset;
  }

  factory<F extends StrategyFamily>(family: F, id: string): StrategyFactory<F> | undefined {
    return this.entries.get(family)!.get(id)?.factory as StrategyFactory<F> | undefined;
  }

  /** Which plugin contributed a strategy. */
  pluginOf(family: StrategyFamily, id: string): string | undefined {
    return this.entries.get(family)!.get(id)?.plugin;
  }

  /** A table of every strategy for help texts: family, id, plugin, description. */
  describe(): { family: StrategyFamily; id: string; plugin: string; description: string }[] {
    return STRATEGY_FAMILIES.flatMap((family) =>
      [...this.entries.get(family)!.values()].map((e) => ({ family, id: e.factory.id, plugin: e.plugin, description: e.factory.description })),
    );
  }

  /**
   * Validate the five sections and return factories with parsed options and declared capabilities. Every
   * problem found is reported at once, one line per field.
   */
  resolve(sections: Partial<Record<StrategyFamily, StrategySection>>, model?: ModelFacts): ResolvedStrategies {
    const problems: string[] = [];
    const ids = {} as Record<StrategyFamily, string>;
    const options = {} as Record<StrategyFamily, Record<string, unknown>>;
    const entries = {} as Record<StrategyFamily, Entry>;
    for (const family of STRATEGY_FAMILIES) {
      const section = sections[family];
      if (section === undefined) {
        problems.push(`${family}: no strategy chosen and no preset supplies one; choose one of: ${this.ids(family).join(', ') || '(none registered: load a plugin)'}`);
        continue;
      }
      const { id, rest } = splitSection(section);
      if (typeof id !== 'string' || id === '') {
        problems.push(`${family}.id: expected a strategy id string (got ${JSON.stringify(id)}); registered: ${this.ids(family).join(', ')}`);
        continue;
      }
      const entry = this.entries.get(family)!.get(id);
      if (!entry) {
        problems.push(`${family}.id: unknown ${family} strategy '${id}'; registered: ${this.ids(family).join(', ') || '(none: load a plugin that provides one)'}`);
        continue;
      }
      const parsed = entry.factory.options.safeParse(rest);
      if (!parsed.success) {
        problems.push(...formatIssues(family, parsed.error, rest));
        continue;
      }
      ids[family] = id;
      options[family] = parsed.data as Record<string, unknown>;
      entries[family] = entry;
    }
    if (problems.length) throw configErrorFromLines(problems);
    const capabilities = {} as Record<StrategyFamily, unknown>;
    for (const family of STRATEGY_FAMILIES) {
      const declared = entries[family].factory.capabilities;
      const own = typeof declared === 'function' ? declared(options[family]) : declared;
      capabilities[family] = Object.freeze({ ...DEFAULT_CAPABILITIES[family], ...own });
    }
    const choice: StrategyChoice = { ids, options, capabilities: capabilities as unknown as RunCapabilities, model };
    problems.push(...capabilityProblems(choice));
    for (const family of STRATEGY_FAMILIES) {
      const reason = entries[family].factory.check?.(choice, options[family]);
      if (reason) problems.push(`${family}: '${ids[family]}' cannot be used here: ${reason}`);
    }
    if (problems.length) throw configErrorFromLines(problems);
    const factories = Object.fromEntries(STRATEGY_FAMILIES.map((f) => [f, entries[f].factory])) as unknown as ResolvedStrategies['factories'];
    return {
      choice,
      factories,
      capabilities: choice.capabilities,
      instantiate: (services) => {
        const out = {} as Record<StrategyFamily, unknown>;
        for (const family of STRATEGY_FAMILIES) out[family] = build(entries[family], options[family], services);
        return out as { [F in StrategyFamily]: StrategyOf[F] };
      },
    };
  }
}

/**
 * A strategy of one run: a class is built in a child of its plugin's container holding the run's services
 * and the strategy's options, so it receives them by `@inject`, as does anything else its plugin bound.
 */
function build(entry: Entry, options: Record<string, unknown>, services: RunServices): unknown {
  const { factory } = entry;
  if (!factory.strategy) return factory.create!(options);
  const run = new Container({ parent: entry.scope });
  run.bind(StrategyOptions).toConstantValue(options);
  run.bind(RunRandom).toConstantValue(services.random);
  run.bind(WarningSink).toConstantValue(services.warnings);
  run.bind(BackendFacts).toConstantValue(services.backend);
  run.bind(factory.strategy).toSelf().inTransientScope();
  return run.get(factory.strategy);
}

/** Combinations no strategy can make work, found from the declared capabilities alone. */
function capabilityProblems(choice: StrategyChoice): string[] {
  const problems: string[] = [];
  const { normalization } = choice.capabilities;
  if (normalization.needsBatchNorm && choice.model && !choice.model.layerClasses.includes('BatchNormalization')) {
    problems.push(
      `normalization: '${choice.ids.normalization}' cannot be used here: the backbone has no BatchNormalization layer, so there are no batch statistics to split; choose normalization 'none' (for GroupNorm/LayerNorm models) or 'batchnorm'`,
    );
  }
  return problems;
}

function splitSection(section: StrategySection): { id: unknown; rest: Record<string, unknown> } {
  if (typeof section === 'string') return { id: section, rest: {} };
  if (section === null || typeof section !== 'object' || Array.isArray(section)) return { id: section, rest: {} };
  const { id, ...rest } = section;
  return { id, rest };
}
