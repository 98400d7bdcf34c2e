import 'reflect-metadata';
import { Container } from 'inversify';
import { configErrorFromLines, DuplicateStrategyError } from './config-error.js';
import { formatIssues } from './format-issues.js';
import type { MocoPlugin } from './moco-plugin.js';
import { PresetToken, type Preset } from './preset.js';
import type { StrategyChoice, StrategyFactory } from './strategy-factory.js';
import { STRATEGY_FAMILIES, StrategyTokens, type StrategyFamily, type StrategyOf } from './strategy-family.js';
import type { ModelFacts } from '../strategies/normalization-strategy.js';

interface Entry {
  readonly factory: StrategyFactory;
  readonly plugin: string;
}

/** A family's section of the config: an id alone, or an id with options. */
export type StrategySection = string | ({ id?: string } & Record<string, unknown>);

/** The outcome of resolving the five sections of a config against the registry. */
export interface ResolvedStrategies {
  readonly choice: StrategyChoice;
  readonly factories: { readonly [F in StrategyFamily]: StrategyFactory<F> };
  /** Create fresh strategy instances (one set per run). */
  instantiate(): { [F in StrategyFamily]: StrategyOf[F] };
}

/**
 * Every strategy the loaded plugins contribute, by family and id. Plugins are loaded into one
 * inversify container, one at a time, so each contributed factory is attributed to its plugin and a
 * second binding of the same id can name both plugins.
 */
export class StrategyRegistry {
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
    // Bindings come back in binding order, so what this plugin added is the tail past the old count
    // (counted, not compared by identity: a plugin may bind the very factory another one did).
    const before = new Map(STRATEGY_FAMILIES.map((f) => [f, this.container.getAll<StrategyFactory>(StrategyTokens[f], { optional: true }).length]));
    const presetsBefore = this.container.getAll<Preset>(PresetToken, { optional: true }).length;
    this.container.load(plugin.module);
    this.plugins.push(plugin);
    for (const family of STRATEGY_FAMILIES) {
      const table = this.entries.get(family)!;
      const added = this.container.getAll<StrategyFactory>(StrategyTokens[family], { optional: true }).slice(before.get(family));
      for (const factory of added) {
        if (factory.family !== family) {
          throw new Error(`plugin '${plugin.name}': factory '${factory.id}' says family '${factory.family}' but is bound to '${family}'.`);
        }
        const prior = table.get(factory.id);
        if (prior) throw new DuplicateStrategyError(family, factory.id, [prior.plugin, plugin.name]);
        table.set(factory.id, { factory, plugin: plugin.name });
      }
    }
    for (const preset of this.container.getAll<Preset>(PresetToken, { optional: true }).slice(presetsBefore)) {
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
   * Validate the five sections and return factories with parsed options. Every problem found is
   * reported at once, one line per field.
   */
  resolve(sections: Partial<Record<StrategyFamily, StrategySection>>, model?: ModelFacts): ResolvedStrategies {
    const problems: string[] = [];
    const ids = {} as Record<StrategyFamily, string>;
    const options = {} as Record<StrategyFamily, Record<string, unknown>>;
    const factories = {} as Record<StrategyFamily, StrategyFactory>;
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
      const factory = this.factory(family, id);
      if (!factory) {
        problems.push(`${family}.id: unknown ${family} strategy '${id}'; registered: ${this.ids(family).join(', ') || '(none: load a plugin that provides one)'}`);
        continue;
      }
      const parsed = factory.options.safeParse(rest);
      if (!parsed.success) {
        problems.push(...formatIssues(family, parsed.error, rest));
        continue;
      }
      ids[family] = id;
      options[family] = parsed.data as Record<string, unknown>;
      factories[family] = factory;
    }
    if (problems.length) throw configErrorFromLines(problems);
    const choice: StrategyChoice = { ids, options, model };
    for (const family of STRATEGY_FAMILIES) {
      const reason = factories[family].check?.(choice, options[family]);
      if (reason) problems.push(`${family}: '${ids[family]}' cannot be used here: ${reason}`);
    }
    if (problems.length) throw configErrorFromLines(problems);
    return {
      choice,
      factories: factories as ResolvedStrategies['factories'],
      instantiate: () => {
        const out = {} as { [F in StrategyFamily]: StrategyOf[F] };
        for (const family of STRATEGY_FAMILIES) (out as Record<string, unknown>)[family] = factories[family].create(options[family]);
        return out;
      },
    };
  }
}

function splitSection(section: StrategySection): { id: unknown; rest: Record<string, unknown> } {
  if (typeof section === 'string') return { id: section, rest: {} };
  if (section === null || typeof section !== 'object' || Array.isArray(section)) return { id: section, rest: {} };
  const { id, ...rest } = section;
  return { id, rest };
}
