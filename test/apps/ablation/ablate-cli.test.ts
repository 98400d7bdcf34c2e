import test from 'ava';
import { runCli } from '../../../apps/cli/program.js';
import { builtinPlugins } from '../../../plugins/index.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false, plugins: builtinPlugins });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test.serial('tfjs-moco ablate is a command with --study, --budget, --seeds and --out', async (t) => {
  const top = await cli(['--help']);
  t.is(top.code, 0);
  t.regex(top.out, /^\s+ablate \[options\]/m);
  const help = await cli(['ablate', '--help']);
  t.is(help.code, 0);
  t.regex(help.out, /--study <name>\s+the study: mechanisms \| momentum \| shuffle-bn \|\s+queue-size/);
  for (const flag of ['--budget <minutes>', '--seeds <n>', '--out <dir>', '--cells <ids>', '--clock <clock>', '--budget-covers <what>']) t.true(help.out.includes(flag), flag);
});

test.serial('tfjs-moco ablate with a bad study name fails in one line listing the studies', async (t) => {
  const r = await cli(['ablate', '--study', 'momentun']);
  t.is(r.code, 1);
  t.is(r.err, "tfjs-moco: error: unknown study 'momentun'; the studies are: mechanisms, momentum, shuffle-bn, queue-size");
  const cells = await cli(['ablate', '--study', 'momentum', '--cells', 'm0,m7']);
  t.is(cells.code, 1);
  t.is(cells.err, "tfjs-moco: error: study momentum: unknown cell 'm7'; its cells are: m0, m0.9, m0.99, m0.999");
  const missing = await cli(['ablate']);
  t.is(missing.code, 1);
  t.regex(missing.err, /required option '--study <name>' not specified/);
  const budget = await cli(['ablate', '--study', 'momentum', '--budget', '-2']);
  t.is(budget.code, 1);
  t.regex(budget.err, /--budget <minutes>' argument '-2' is invalid\. expected a positive number\./);
});
