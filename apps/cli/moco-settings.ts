// The MoCo settings of a CLI run, in order of precedence: the preset (default 'fmnist-default', or --preset /
// the file's moco.preset) < --quick's small override < the config file's `moco` section < the flags
// (--queue-size, --key-momentum, --temperature). The library resolves them once into one ResolvedConfig,
// which the run, the speed measurement and the report all read.
import { z } from 'zod';
import { mergeOverPreset, resolveMocoConfig, type MocoConfigInput, type ResolvedConfig } from '../../src/config/moco-config.js';
import { ConfigError } from '../../src/registry/config-error.js';
import { formatIssues } from '../../src/registry/format-issues.js';
import type { StrategyRegistry } from '../../src/registry/strategy-registry.js';
import type { ModelFacts } from '../../src/strategies/normalization-strategy.js';
import { CliError } from './cli-error.js';

/** The preset of the default job (plugins/presets/fmnist-default.ts). */
export const CLI_PRESET = 'fmnist-default';

/** What --quick changes in the default preset: a queue a one-minute run fills (64 images per step). */
export const QUICK_MOCO: MocoConfigInput = { dictionary: { size: 1024 } };

/** The flags that set MoCo knobs (commander's names). */
export interface MocoFlags {
  preset?: string;
  queueSize?: number;
  keyMomentum?: number;
  temperature?: number;
}

/** A flag and the strategy option it sets. */
interface Knob {
  readonly flag: string;
  readonly family: 'dictionary' | 'update' | 'loss';
  readonly option: string;
  readonly value: (flags: MocoFlags) => number | undefined;
}

const KNOBS: readonly Knob[] = [
  { flag: '--queue-size', family: 'dictionary', option: 'size', value: (f) => f.queueSize },
  { flag: '--key-momentum', family: 'update', option: 'keyEncoderMomentum', value: (f) => f.keyMomentum },
  { flag: '--temperature', family: 'loss', option: 'temperature', value: (f) => f.temperature },
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The user's side of the MoCo settings (everything over the preset), naming its preset: what the run record
 * stores as `run.moco`. A strategy section with another id than a lower layer's replaces it whole.
 */
export function mocoSettings(file: unknown, flags: MocoFlags, quick: boolean): MocoConfigInput {
  if (file !== undefined && !isObj(file)) throw new CliError(`--config: moco: expected an object (createMoco's config), got ${JSON.stringify(file)}`);
  const preset = flags.preset ?? (typeof file?.preset === 'string' ? file.preset : CLI_PRESET);
  const fromFlags: Obj = {};
  for (const k of KNOBS) {
    const v = k.value(flags);
    if (v !== undefined) fromFlags[k.family] = { [k.option]: v };
  }
  // --quick shrinks the default job's recipe; another preset keeps its own dictionary.
  const base = quick && preset === CLI_PRESET ? (QUICK_MOCO as Obj) : {};
  return { ...mergeOverPreset(mergeOverPreset(base, file ?? {}), fromFlags), preset } as MocoConfigInput;
}

/**
 * Check the preset and the flags before any time is spent: an unknown preset, a flag that the chosen strategy
 * does not take, or a bad value is an error naming the flag.
 */
export function checkMocoFlags(settings: MocoConfigInput, seed: number, flags: MocoFlags, registry: StrategyRegistry): void {
  const preset = settings.preset ?? CLI_PRESET;
  if (!registry.preset(preset)) {
    throw new CliError(`${flags.preset ? '--preset' : 'moco.preset'} ${preset}: no such preset; registered: ${registry.presetNames().join(', ')}`);
  }
  const given = KNOBS.filter((k) => k.value(flags) !== undefined);
  if (given.length > 0) {
    // The strategies the preset and file choose, to check each flag against the one it configures.
    const without = { ...settings } as Obj;
    for (const k of given) without[k.family] = withoutOption(without[k.family], k.option);
    const chosen = resolveMocoConfig({ ...without, seed }, registry).strategies;
    for (const k of given) checkKnob(k, k.value(flags)!, chosen.choice.ids[k.family], chosen.factories[k.family].options);
  }
}

/** The run's MoCo config, resolved once with the backbone's facts: what the run, the speed measurement and the report read. */
export function resolveMoco(settings: MocoConfigInput, seed: number, registry: StrategyRegistry, model?: ModelFacts): ResolvedConfig {
  try {
    return resolveMocoConfig({ ...settings, seed }, registry, model);
  } catch (err) {
    // The MoCo settings are the `moco` section of the run config: a root-level problem is that section's.
    if (err instanceof ConfigError && err.field === 'config') throw new CliError(`moco${err.message.slice('config'.length)}`);
    throw err;
  }
}

function withoutOption(section: unknown, option: string): unknown {
  if (!isObj(section)) return section;
  const { [option]: _dropped, ...rest } = section;
  return rest;
}

function checkKnob(knob: Knob, value: number, id: string, schema: z.ZodType): void {
  const input = { [knob.option]: value };
  const parsed = schema.safeParse(input);
  if (parsed.success) return;
  if (parsed.error.issues.some((i) => i.code === 'unrecognized_keys')) {
    const takes = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    throw new CliError(
      `${knob.flag} ${value}: ${knob.family} '${id}' has no option '${knob.option}'${takes.length ? ` (it takes: ${takes.join(', ')})` : ''}; choose a preset or config whose ${knob.family} has it, or drop ${knob.flag}`,
    );
  }
  const problem = formatIssues(knob.family, parsed.error, input).find((l) => l.startsWith(`${knob.family}.${knob.option}:`));
  if (problem) throw new CliError(`${knob.flag} ${value}: ${problem}`);
}
