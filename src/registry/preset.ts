import { ContainerModule } from 'inversify';

/** A named partial config that a plugin contributes, e.g. the paper's `mocov1` / `mocov2` settings. */
export interface Preset {
  readonly name: string;
  readonly description: string;
  /** Any subset of the config; the user's config is merged over it field by field. */
  readonly config: Readonly<Record<string, unknown>>;
}

export const PresetToken = Symbol.for('tfjs-moco/preset');

/** Preset a config names when it names none. A plugin binds a preset under this name to supply defaults. */
export const DEFAULT_PRESET = 'default';

export function presetModule(presets: readonly Preset[]): ContainerModule {
  return new ContainerModule((options) => {
    for (const p of presets) options.bind(PresetToken).toConstantValue(p);
  });
}
