import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The design rule: the built-in strategies register through the public plugin API, so the core (src/)
// imports nothing from plugins/. Hosts (bin/tfjs-moco.js, tests, samples) compose the plugins.
const root = fileURLToPath(new URL('../..', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

test('no file under src/ imports from plugins/', async (t) => {
  const files = await sourceFiles(join(root, 'src'));
  t.true(files.length > 50, `expected the whole core, found ${files.length} files`);
  const offenders: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (/(^|\/)plugins(\/|$)/.test(m[1]) && m[1].startsWith('.')) offenders.push(`${relative(root, file)} imports ${m[1]}`);
    }
  }
  t.deepEqual(offenders, []);
});
