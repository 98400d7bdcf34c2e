// `npm run test:peers [-- VERSION ...]`: the packed tarball in a fresh app on each given tfjs version (default:
// 4.21.0, the low end of the peer range; the package test covers 4.22.0), its smoke script run there. Needs
// the npm registry for versions not in the npm cache. Exit code 0 only if every version passes.
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { installApp, packTarball, runSmoke } from './packed-app.js';

const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['4.21.0'];
const packed = await packTarball();
let failed = 0;
for (const version of versions) {
  const app = await installApp(packed.tarball, version);
  try {
    const r = await runSmoke(app.dir);
    const problems = [
      r.tfjsVersion !== version && `tfjs-core ${r.tfjsVersion} installed instead`,
      r.missing.length > 0 && `missing exports ${r.missing.join(', ')}`,
      r.lossId !== 'app-infonce' && `loss ${r.lossId} ran instead of the app's`,
      !(r.losses.length === 4 && r.losses.every(Number.isFinite)) && `losses ${r.losses}`,
      !(r.maxDiff <= 1e-6) && `reloaded encoder differs by ${r.maxDiff}`,
    ].filter(Boolean);
    if (problems.length > 0) failed++;
    console.log(`tfjs ${version}: ${problems.length === 0 ? 'ok' : `FAILED (${problems.join('; ')})`}; losses ${r.losses.map((l) => l.toFixed(4)).join(', ')}; ` +
      `reload max |diff| ${r.maxDiff}; install ${app.seconds.toFixed(1)} s`);
  } finally {
    await rm(app.dir, { recursive: true, force: true });
  }
}
await rm(dirname(packed.tarball), { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
