import { z } from 'zod';
import { ConfigError, configErrorFromLines } from '../registry/config-error.js';
import { formatIssues } from '../registry/format-issues.js';
import { DEFAULT_PRESET } from '../registry/preset.js';
import type { ResolvedStrategies, StrategyRegistry, StrategySection } from '../registry/strategy-registry.js';
import type { ModelFacts } from '../strategies/normalization-strategy.js';
import { STRATEGY_FAMILIES, type StrategyFamily } from '../registry/strategy-family.js';

const section = z.union([z.string(), z.looseObject({ id: z.string().optional() })]);

/**
 * The trainer's own settings. Defaults follow MoCo v1 (He et al. 2020, Sec. 4 "Training"): a linear
 * 128-d head, SGD with momentum 0.9, weight decay 1e-4, lr 0.03 (for batch 256) dropped ×0.1 at 60%
 * and 80% of training (epochs 120 and 160 of 200). Preset `mocov2` switches to an MLP head and cosine.
 */
export const trainerConfigSchema = z
  .object({
    preset: z.string().default(DEFAULT_PRESET),
    /** Seeds augmentation, shuffles, initial dictionary and Shuffle BN permutations. */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    head: z
      .object({
        /** 'linear' (v1: one fc layer) or 'mlp' (v2: fc-ReLU-fc). */
        type: z.enum(['linear', 'mlp']).default('linear'),
        /** Embedding dimension d. */
        dim: z.number().int().min(2).default(128),
        /** Hidden width of the MLP head (v2 uses 2048). */
        hidden: z.number().int().min(1).default(2048),
      })
      .strict()
      .prefault({}),
    optimizer: z
      .object({
        learningRate: z.number().positive().default(0.03),
        momentum: z.number().min(0).lt(1).default(0.9),
        /** L2 weight decay added to every gradient, as torch.optim.SGD's weight_decay (tfjs has none). */
        weightDecay: z.number().min(0).default(1e-4),
        schedule: z.enum(['constant', 'step', 'cosine']).default('step'),
        /** For 'step': fractions of training at which the lr is multiplied by `gamma`. */
        milestones: z.array(z.number().gt(0).lt(1)).default([0.6, 0.8]),
        gamma: z.number().gt(0).max(1).default(0.1),
      })
      .strict()
      .prefault({}),
    /**
     * Largest number of images per forward/backward pass (0: the whole batch). A larger batch runs as
     * near-equal micro-batches whose gradients are summed before one optimizer step, so a batch that does
     * not fit in memory (the wasm backend's 4 GiB) still trains; BatchNorm statistics are then per
     * micro-batch, as per-GPU BN is (and Shuffle BN shuffles within each micro-batch).
     */
    microBatch: z.number().int().min(0).default(0),
    loss: section.optional(),
    dictionary: section.optional(),
    update: section.optional(),
    normalization: section.optional(),
    augmentation: section.optional(),
  })
  .strict();

export type MocoConfigInput = z.input<typeof trainerConfigSchema>;
export type TrainerConfig = z.output<typeof trainerConfigSchema>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function asSection(v: unknown): Obj | undefined {
  if (typeof v === 'string') return { id: v };
  return isObj(v) ? v : undefined;
}

/**
 * Merge the user's config over a preset: plain objects field by field; a strategy section whose id
 * differs from the preset's replaces it whole (the preset's options belong to another strategy).
 */
export function mergeOverPreset(preset: Obj, user: Obj): Obj {
  const out: Obj = { ...preset };
  for (const [k, v] of Object.entries(user)) {
    if ((STRATEGY_FAMILIES as readonly string[]).includes(k)) {
      const p = asSection(preset[k]);
      const u = asSection(v);
      if (p && u && (u.id === undefined || u.id === p.id)) out[k] = p.id === undefined ? { ...p, ...u } : { ...p, ...u, id: p.id };
      else out[k] = v;
    } else if (isObj(v) && isObj(preset[k])) {
      out[k] = mergeOverPreset(preset[k] as Obj, v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/**
 * A run's whole configuration, resolved once (preset looked up, the user's config merged over it, every
 * option validated with its defaults filled in, the strategies' capabilities checked) and handed down as
 * one typed object: `createMoco` builds the run from it, and what the run reports or a checkpoint stores
 * is its `json`.
 *
 * ```ts
 * const config = resolveMocoConfig({ preset: 'mocov2', dictionary: { size: 4096 } }, new StrategyRegistry(builtinPlugins));
 * config.trainer.optimizer.learningRate; // 0.03
 * config.strategies.choice.options.dictionary; // { size: 4096 }
 * const moco = createMoco({ backbone, plugins: builtinPlugins, config });
 * ```
 */
export interface ResolvedConfig {
  /** Brand that tells a resolved config from a config input. */
  readonly [RESOLVED]: true;
  /** The preset the config was merged over. */
  readonly preset: string;
  /** The trainer's own settings (seed, head, optimizer, microBatch), defaults filled in. */
  readonly trainer: TrainerConfig;
  /** The five strategies: factories, parsed options, capabilities, and `instantiate` for a run. */
  readonly strategies: ResolvedStrategies;
  /** Everything as plain JSON: what `run-started` reports and a checkpoint stores (createMoco accepts it back). */
  readonly json: Readonly<Record<string, unknown>>;
}

const RESOLVED: unique symbol = Symbol.for('tfjs-moco/resolved-config');

/** Whether `config` is a `ResolvedConfig` (rather than a config input). */
export function isResolvedConfig(config: unknown): config is ResolvedConfig {
  return isObj(config) && (config as { [RESOLVED]?: unknown })[RESOLVED] === true;
}

/**
 * Resolve a config input against the registry's strategies and presets. Throws a ConfigError naming every
 * field at fault. `model`: the backbone's facts, for strategies that refuse some models.
 */
export function resolveMocoConfig(input: unknown, registry: StrategyRegistry, model?: ModelFacts): ResolvedConfig {
  if (input !== undefined && !isObj(input)) throw new ConfigError('config', `expected an object, got ${JSON.stringify(input)}`);
  const user = (input ?? {}) as Obj;
  const presetName = typeof user.preset === 'string' ? user.preset : DEFAULT_PRESET;
  const preset = registry.preset(presetName);
  if (!preset && user.preset !== undefined) {
    throw new ConfigError('preset', `unknown preset '${presetName}'; registered: ${registry.presetNames().join(', ') || '(none)'}`);
  }
  const merged = preset ? mergeOverPreset(preset.config as Obj, user) : user;
  const parsed = trainerConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw configErrorFromLines(formatIssues('', parsed.error, merged));
  }
  const sections = {} as Record<StrategyFamily, StrategySection>;
  for (const f of STRATEGY_FAMILIES) if (parsed.data[f] !== undefined) sections[f] = parsed.data[f] as StrategySection;
  const strategies = registry.resolve(sections, model);
  const { preset: name, seed, head, optimizer } = parsed.data;
  const json: Obj = { preset: name, seed, head, optimizer };
  for (const f of STRATEGY_FAMILIES) json[f] = { id: strategies.choice.ids[f], ...strategies.choice.options[f] };
  return { [RESOLVED]: true, preset: name, trainer: parsed.data, strategies, json };
}
