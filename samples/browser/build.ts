// Builds the browser sample with esbuild into samples/browser/dist/ (index.html, main.js and the wasm backend's
// .wasm files for the fallback). `npm run sample:browser` builds it and serves it on 127.0.0.1.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveStatic } from './static-server.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface BuiltSample {
  outdir: string;
  /** Size of main.js in bytes (minified). */
  bundleBytes: number;
}

/** Bundles main.ts for the browser (minified ES module) and copies the page and the .wasm files next to it. */
export async function buildBrowserSample(outdir = join(here, 'dist')): Promise<BuiltSample> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(here, 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    metafile: true,
    logLevel: 'warning',
  });
  await copyFile(join(here, 'index.html'), join(outdir, 'index.html'));
  const wasmDist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const f of await readdir(wasmDist)) if (f.endsWith('.wasm')) await copyFile(join(wasmDist, f), join(outdir, f));
  return { outdir, bundleBytes: result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const built = await buildBrowserSample();
  console.log(`built ${built.outdir} (main.js ${(built.bundleBytes / 1024).toFixed(0)} KiB)`);
  if (!process.argv.includes('--no-serve')) {
    const server = await serveStatic(built.outdir, Number(process.env.PORT ?? 0));
    console.log(`open ${server.url} (add ?steps=48 or ?backend=wasm; Ctrl-C stops)`);
  }
}
