// The main entry must bundle for a browser: nothing in its static import graph may come from node:.
// esbuild with platform 'browser' refuses to resolve Node built-ins, so a node: import anywhere in the
// graph is a build error; the metafile then says which files went in.
import test from 'ava';
import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function bundle(entry: string): Promise<{ errors: string[]; metafile?: Metafile; code: string }> {
  try {
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return { errors: [], metafile: result.metafile, code: result.outputFiles[0].text };
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string } | null }> }).errors ?? [];
    return { errors: errors.map((e) => `${e.location?.file ?? '?'}: ${e.text}`), code: '' };
  }
}

test('the main entry (src/index.ts) bundles for the browser with no node: module in it', async (t) => {
  const { errors, metafile, code } = await bundle('src/index.ts');
  t.deepEqual(errors, [], errors.join('\n'));
  const inputs = Object.keys(metafile!.inputs);
  t.deepEqual(inputs.filter((f) => f.startsWith('node:') || f.includes('src/node/') || f.includes('src/parallel/replica-group')), []);
  // The library's own modules and tfjs-core are in; the Node-only parts reached lazily stay out.
  t.true(inputs.includes('src/training/moco-trainer.ts'));
  t.true(inputs.some((f) => f.includes('@tensorflow/tfjs-core')));
  t.false(/from\s*["']node:/.test(code), 'no static import from node: in the bundle');
  t.log(`${inputs.length} modules, ${(code.length / 1024).toFixed(0)} KiB unminified`);
});

test('the Node entry is what the check above refuses: bundling it for the browser fails on node: imports', async (t) => {
  // Proves the check can fail: src/node/index.ts reads files through node:fs.
  const { errors } = await bundle('src/node/index.ts');
  t.true(errors.some((e) => /node:fs|node:path|node:worker_threads/.test(e)), errors.join('\n'));
});
