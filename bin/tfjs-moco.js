#!/usr/bin/env node
// The `tfjs-moco` executable and the composition root of the CLI: it hands the built-in plugins to the
// CLI (the library core names none of them). Runs the compiled code (dist/, after `npm run build`) if
// present, else the TypeScript sources through tsx (a development checkout).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = existsSync(join(root, 'dist', 'apps', 'cli', 'program.js'));
if (!compiled) {
  const { register } = await import('tsx/esm/api');
  register();
}
const moduleUrl = (path) => pathToFileURL(join(root, ...(compiled ? ['dist', `${path}.js`] : [`${path}.ts`]))).href;
const pluginsModule = moduleUrl('plugins/index');
const [{ runCli, processIo }, { builtinPlugins }] = await Promise.all([import(moduleUrl('apps/cli/program')), import(pluginsModule)]);
// The plugins module goes along too: data-parallel worker threads (--workers) import it themselves.
const code = await runCli(process.argv.slice(2), processIo(builtinPlugins, [pluginsModule]));
// The wasm backend and open handles may keep the event loop alive: exit explicitly once output is flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
