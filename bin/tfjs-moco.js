#!/usr/bin/env node
// The `tfjs-moco` executable and the composition root of the CLI: it hands the built-in plugins to the
// CLI (the library core names none of them). An installed package runs its compiled code (dist/); a
// development checkout (TypeScript sources present) runs the sources through tsx, so that a dist/ left
// behind by `npm pack` never runs stale code there.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromSources = existsSync(join(root, 'apps', 'cli', 'program.ts'));
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
} else if (!existsSync(join(root, 'dist', 'apps', 'cli', 'program.js'))) {
  process.stderr.write(`tfjs-moco: the compiled CLI is missing (${join(root, 'dist')}); run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
const moduleUrl = (path) => pathToFileURL(join(root, ...(fromSources ? [`${path}.ts`] : ['dist', `${path}.js`]))).href;
const pluginsModule = moduleUrl('plugins/index');
const [{ runCli, processIo }, { builtinPlugins }] = await Promise.all([import(moduleUrl('apps/cli/program')), import(pluginsModule)]);
// The plugins module goes along too: data-parallel worker threads (--workers) import it themselves.
const code = await runCli(process.argv.slice(2), processIo(builtinPlugins, [pluginsModule]));
// The wasm backend and open handles may keep the event loop alive: exit explicitly once output is flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
