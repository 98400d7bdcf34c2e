// The `ablate` command: `tfjs-moco ablate --study mechanisms|momentum|shuffle-bn|queue-size [--budget minutes]
// [--seeds N] [--out DIR]`. Defined here and added to a commander program by `addAblateCommand`, so the CLI
// registers it with one call. Light imports only: TensorFlow.js loads when the command runs, not for --help.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { MocoPlugin } from '../../src/registry/moco-plugin.js';
import { STUDY_NAMES, getStudy, selectCells } from './studies.js';

/** Where the command writes: progress and errors on `err`, the written files on `out`. */
export interface AblateIo {
  out(line: string): void;
  err(line: string): void;
  /** The strategies the studies' configs name (the executable passes `builtinPlugins`). */
  plugins: readonly MocoPlugin[];
}

export interface AblateFlags {
  study: string;
  budget?: number;
  seeds?: number;
  out?: string;
  cells?: string;
  backend?: 'wasm' | 'auto' | 'cpu';
  clock?: 'wall' | 'cpu';
  budgetCovers?: 'training' | 'study';
  verbose?: boolean;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected an integer ≥ 1.');
  return n;
}

/**
 * Run one study from command-line flags; resolves with the exit code (0, or 1 with a one-line error).
 * `command` is the command line as typed, written at the top of the report.
 */
export async function ablateCommand(flags: AblateFlags, io: AblateIo, command?: string): Promise<number> {
  try {
    const study = getStudy(flags.study); // an unknown name fails here, listing the studies, before TF loads
    const cells = flags.cells ? flags.cells.split(',').map((c) => c.trim()).filter(Boolean) : undefined;
    selectCells(study, cells);
    const { runStudy } = await import('./index.js');
    const { files } = await runStudy(study.name, {
      budgetMinutes: flags.budget,
      seeds: flags.seeds,
      out: flags.out,
      cells,
      backend: flags.backend ?? 'wasm',
      clock: flags.clock,
      budgetCovers: flags.budgetCovers,
      command,
      log: (line) => io.err(line),
      plugins: io.plugins,
    });
    for (const file of Object.values(files)) io.out(file);
    return 0;
  } catch (err) {
    io.err(`tfjs-moco: error: ${err instanceof Error ? err.message : String(err)}`);
    if (flags.verbose && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}

/**
 * Add `ablate` to a commander program. `setExitCode` receives the command's exit code; `commandLine` gives
 * the command line to record in the report (default: `npx tfjs-moco ablate` and the arguments).
 */
export function addAblateCommand(program: Command, io: AblateIo, setExitCode: (code: number) => void, commandLine?: () => string): Command {
  return program
    .command('ablate')
    .description('ablation study: train every cell of a study for the same wall-clock budget, kNN-evaluate each, write <study>.md/.csv/.svg')
    .requiredOption('--study <name>', `the study: ${STUDY_NAMES.join(' | ')}`)
    .option('--budget <minutes>', 'minutes of training for the whole study, divided equally among its runs (default: mechanisms 6, others 4)', positiveNumber)
    .option('--seeds <n>', 'runs per cell, seeds 0..n-1 (default 1)', positiveInteger)
    .option('--out <dir>', 'output folder (default runs/ablation-<study>-<time>)')
    .option('--cells <ids>', 'only these cells of the study, comma-separated ids (see the study\'s CSV)')
    .option('--backend <name>', 'wasm (default), auto or cpu')
    .addOption(new Option('--clock <clock>', 'what the budget counts: wall seconds (default) or this process\'s CPU seconds (fair on a busy machine)').choices(['wall', 'cpu']))
    .addOption(new Option('--budget-covers <what>', 'training (default: evaluations come on top) or study (the whole study finishes within --budget; wall clock only)').choices(['training', 'study']))
    .option('--verbose', 'stack traces on errors')
    .action(async (opts: AblateFlags, cmd: Command) => {
      const line = commandLine?.() ?? ['npx tfjs-moco ablate', ...rawArgs(cmd)].join(' ');
      setExitCode(await ablateCommand(opts, io, line));
    });
}

/** The arguments after `ablate` as typed. */
function rawArgs(cmd: Command): string[] {
  const all = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
  const i = all.indexOf('ablate');
  return i >= 0 ? all.slice(i + 1) : [];
}
