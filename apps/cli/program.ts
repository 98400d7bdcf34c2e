// The `tfjs-moco` command line: pretrain, eval, resume, ablate. Errors are one line (the reason, naming the flag or
// path at fault) and a non-zero exit code; --verbose adds the stack trace.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, oneLine } from './cli-error.js';
import { BACKEND_NAMES, MODEL_NAMES } from './constants.js';
import type { EvalFlags } from './evaluate.js';
import type { FinetuneFlags } from './finetune.js';
import type { PretrainFlags, ResumeFlags } from './pretrain.js';
import type { CliIo } from './progress.js';
import { addAblateCommand } from '../ablation/ablate-cli.js';

export type { CliIo };

const BACKENDS = [...BACKEND_NAMES];

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}.`);
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

function unitInterval(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1.');
  return n;
}

/** The package version, from the package.json above this file (apps/cli or dist/apps/cli). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tfjs-moco') return pkg.version ?? '0.0.0';
    } catch {
      // keep looking
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/**
 * The process's stdout/stderr with the given plugins: what the `tfjs-moco` executable passes. `pluginModules`:
 * the modules exporting those plugins, for data-parallel worker threads (`--workers`).
 */
export function processIo(plugins: CliIo['plugins'], pluginModules?: readonly string[]): CliIo {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    tty: Boolean(process.stderr.isTTY),
    plugins,
    pluginModules,
  };
}

/**
 * Run the CLI on `argv` (without `node` and the script). Resolves with the exit code; never calls
 * process.exit. The strategies its configs may name come from `io.plugins`: the library core names no
 * plugin, so the host (bin/tfjs-moco.js, or a test) composes the built-ins with any of its own.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  let exitCode = 0;
  const program = new Command();
  program
    .name('tfjs-moco')
    .description('MoCo (momentum contrast) self-supervised pretraining for TensorFlow.js')
    .version(version())
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // Usage errors as one line, like every other error.
      outputError: (s, write) => write(`tfjs-moco: ${s}`),
    })
    .addHelpText('after', '\nExamples:\n  tfjs-moco pretrain                      # Fashion-MNIST, ~10 minutes, writes runs/<timestamp>/\n  tfjs-moco pretrain --quick --out runs/q # ~1 minute smoke run\n  tfjs-moco eval --encoder runs/q --data fashion-mnist --json\n  tfjs-moco resume --out runs/q');

  const backendOption = () => new Option('--backend <name>', 'tfjs backend: auto picks tfjs-node-gpu, tfjs-node, wasm, then cpu').choices(BACKENDS);
  program
    .command('pretrain')
    .description('pretrain an encoder with MoCo, monitor it with kNN, evaluate it against baselines, write a report')
    .option('--config <file>', 'JSON run settings (data, model, batchSize, epochs, minutes, knnEvery, monitor, evaluation, checkpointEvery, moco)')
    .option('--data <spec>', 'fashion-mnist | idx:DIR | folder:DIR (default fashion-mnist)')
    .option('--out <dir>', 'output folder (default runs/<timestamp>)')
    .option('--epochs <n>', 'epochs (default: planned from the measured speed to fit --minutes)', integer(1))
    .option('--batch-size <n>', 'images per step (default 64)', integer(2))
    .option('--workers <n>', 'threads to train on, data parallel (default: every core, at most 4; 1 = one thread)', integer(1))
    .addOption(backendOption())
    .option('--seed <n>', 'seed of data order, augmentation and initialisation (default 0)', integer(0))
    .option('--knn-every <n>', 'kNN monitor every n epochs, 0 = off (default 1)', integer(0))
    .option('--minutes <m>', 'wall-time budget of the whole job when epochs are planned (default 10)', positiveNumber)
    .option('--quick', 'a ~1 minute run of the same job (smaller batch, queue and evaluation)')
    .option('--preset <name>', 'MoCo settings to start from: fmnist-default (default), mocov1, mocov2, end-to-end, memory-bank, or a plugin\'s')
    .option('--queue-size <K>', 'K, the negatives in the queue (dictionary.size; fmnist-default 4096)', integer(1))
    .option('--key-momentum <m>', 'm of the key encoder\'s moving average (update.keyEncoderMomentum; fmnist-default 0.99)', unitInterval)
    .option('--temperature <t>', 'τ of the contrastive loss (loss.temperature; fmnist-default 0.1)', positiveNumber)
    .addOption(new Option('--model <name>', 'encoder architecture (default small-convnet)').choices([...MODEL_NAMES]))
    .addOption(new Option('--width <n>', 'encoder width').argParser(integer(1)).hideHelp())
    .option('--overwrite', "start over in an --out folder holding a previous run (deletes that run's own files; never other files)")
    .addOption(new Option('--stop-after <steps>', 'stop with a checkpoint after this many steps').argParser(integer(1)).hideHelp())
    .option('--verbose', 'stack traces on errors')
    .action(async (opts: PretrainFlags) => {
      // Imported here, so that --help and usage errors do not load TensorFlow.js.
      const { pretrainCommand } = await import('./pretrain.js');
      exitCode = await pretrainCommand(opts, io);
    });

  program
    .command('eval')
    .description('kNN and linear-probe accuracy of a saved encoder, beside the same architecture at random init and raw pixels')
    .requiredOption('--encoder <dir>', 'folder with model.json + weights.bin (e.g. a pretrain --out folder)')
    .option('--data <spec>', 'fashion-mnist | idx:DIR | folder:DIR', 'fashion-mnist')
    .option('--json', 'print the results as JSON on stdout')
    .option('--train-per-class <n>', 'kNN memory / probe training images per class, 0 = all (the full split, as published results use)', integer(0), 0)
    .option('--test-per-class <n>', 'query images per class, 0 = all', integer(0), 0)
    .option('--no-probe', 'skip the linear probe')
    .option('--k <n>', 'kNN neighbours', integer(1), 200)
    .option('--seed <n>', 'seed of the subsets', integer(0), 0)
    .option('--no-baseline-cache', 'compute the baselines (raw pixels, random init) even when cached for this protocol')
    .addOption(backendOption().default('auto'))
    .option('--verbose', 'stack traces on errors')
    .action(async (opts: EvalFlags) => {
      const { evalCommand } = await import('./evaluate.js');
      exitCode = await evalCommand(opts, io);
    });

  program
    .command('resume')
    .description('continue an interrupted pretrain run from its checkpoint to the planned end, then evaluate and report')
    .requiredOption('--out <dir>', 'the folder of the run (as given to pretrain --out)')
    .addOption(backendOption())
    .addOption(new Option('--stop-after <steps>', 'stop with a checkpoint after this many steps').argParser(integer(1)).hideHelp())
    .option('--verbose', 'stack traces on errors')
    .action(async (opts: ResumeFlags) => {
      const { resumeCommand } = await import('./pretrain.js');
      exitCode = await resumeCommand(opts, io);
    });

  program
    .command('finetune')
    .description('fine-tune a saved encoder end to end on few labels per class, beside the same architecture from random init and the linear probe')
    .requiredOption('--encoder <dir>', 'folder with model.json + weights.bin (e.g. a pretrain --out folder)')
    .option('--data <spec>', 'fashion-mnist | idx:DIR | folder:DIR', 'fashion-mnist')
    .option('--labels-per-class <list>', 'labelled training images per class, comma-separated (60,600 = 1 % and 10 % of Fashion-MNIST)', '60,600')
    .option('--seeds <n>', 'runs per count, each with its own label subset, batch order and augmentation', integer(1), 3)
    .option('--steps <n>', 'optimizer steps per fine-tune (the budget, equal for both initialisations)', integer(0), 500)
    .option('--batch-size <n>', 'images per step', integer(1), 64)
    .option('--lr <x>', 'peak learning rate (cosine decay to 0)', positiveNumber, 0.01)
    .addOption(new Option('--head-init <how>', 'the classifier first trained alone on frozen features (probe: LP-FT) or random').choices(['random', 'probe']).default('probe'))
    .option('--test-per-class <n>', 'test images per class, 0 = all', integer(0), 0)
    .option('--no-probe', 'skip the linear probe')
    .option('--json', 'print the results as JSON on stdout')
    .addOption(backendOption().default('auto'))
    .option('--verbose', 'stack traces on errors')
    .action(async (opts: FinetuneFlags) => {
      const { finetuneCommand } = await import('./finetune.js');
      exitCode = await finetuneCommand(opts, io);
    });

  // ablate: the ablation studies (apps/ablation/); TensorFlow.js loads only when it runs.
  addAblateCommand(program, io, (code) => (exitCode = code));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    // Commander has printed its own message (usage errors) or the help/version (exit code 0).
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`tfjs-moco: error: ${oneLine(err)}`);
    if (verbose && err instanceof Error && err.stack) io.err(err.stack);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
