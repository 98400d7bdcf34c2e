// The browser sample (samples/browser/) in a real Chromium, headless, WebGL rendered by SwiftShader: the page
// pretrains on WebGL, its chart is fed by events$, and the outcome is read back from the page. The WebGL
// backend is also checked against cpu: a few steps from the same seed on both, losses compared.
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { buildBrowserSample } from '../../samples/browser/build.js';
import type { SampleState } from '../../samples/browser/sample-state.js';
import { serveStatic } from '../../samples/browser/static-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STEPS = 20;
const BATCH = 16;
const CHECK_STEPS = 2;
const SCREENSHOT = fileURLToPath(new URL('../../.cache/screenshots/browser-sample.png', import.meta.url));
const chromiumMissing = !existsSync(CHROMIUM);

if (chromiumMissing && !process.env.CI) {
  test.skip(`browser sample in Chromium (skipped: ${CHROMIUM} is absent; apt-get install -y chromium, as .ci/run does)`, () => {});
} else {
  test('the browser sample pretrains on WebGL in Chromium: events arrive, the loss falls, numTensors stays flat, the chart is drawn, WebGL matches cpu; the wasm fallback trains too', async (t) => {
    t.timeout(240_000);
    t.false(chromiumMissing, `${CHROMIUM} is missing in CI: .ci/run must install chromium`);
    const started = performance.now();
    const outdir = await mkdtemp(join(tmpdir(), 'tfjs-moco-browser-'));
    const profile = await mkdtemp(join(tmpdir(), 'tfjs-moco-chromium-'));
    const built = await buildBrowserSample(outdir);
    const server = await serveStatic(outdir);
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      protocolTimeout: 240_000,
      args: [
        '--no-sandbox',
        '--disable-dev-shm-usage',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/favicon/.test(m.location()?.url ?? '')) consoleErrors.push(m.text());
      });
      page.on('pageerror', (err) => consoleErrors.push(String(err)));
      await page.goto(`${server.url}?steps=${STEPS}&batch=${BATCH}&check=${CHECK_STEPS}&backend=webgl`);
      // Page code as strings: this file is type-checked for Node, without the DOM's types.
      await page.waitForFunction('window.mocoSample !== undefined && window.mocoSample.status !== "running"', { timeout: 220_000, polling: 500 });
      const state = (await page.evaluate('window.mocoSample')) as SampleState;
      const points = (series: string) =>
        `(document.querySelector('polyline[data-series="${series}"]')?.getAttribute('points') ?? '').trim().split(/\\s+/).filter(Boolean).length`;
      const chart = (await page.evaluate(`({
        lossPoints: ${points('loss')},
        accuracyPoints: ${points('pretext-accuracy')},
        readout: document.getElementById('readout')?.textContent ?? '',
      })`)) as { lossPoints: number; accuracyPoints: number; readout: string };
      await mkdir(join(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });

      t.is(state.status, 'done', state.error);
      t.is(state.backend, 'webgl');
      t.regex(state.renderer ?? '', /SwiftShader|ANGLE|WebGL/i);
      // Events: one per step, in order.
      t.deepEqual(state.steps.map((s) => s.step), Array.from({ length: STEPS }, (_, i) => i));
      const losses = state.steps.map((s) => s.loss);
      t.true(losses.every(Number.isFinite), `losses ${losses}`);
      // The queue (two batches) is full from step 2 on; from there the loss falls and the pretext accuracy rises.
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const early = mean(losses.slice(2, 7));
      const late = mean(losses.slice(-5));
      t.true(late < early - 0.2, `loss early ${early.toFixed(3)}, late ${late.toFixed(3)}`);
      const acc = state.steps.map((s) => s.pretextAccuracy);
      t.true(mean(acc.slice(-5)) > mean(acc.slice(2, 7)) + 0.1, `pretext accuracy ${acc.map((a) => a.toFixed(2)).join(' ')}`);
      // Tensor discipline on WebGL: the count after every step equals the count after the first.
      const tensors = state.steps.map((s) => s.numTensors);
      t.deepEqual(tensors, tensors.map(() => tensors[0]), `numTensors ${tensors.join(' ')}`);
      // The chart shows every step; the kNN read-out is on the page.
      t.is(chart.lossPoints, STEPS);
      t.is(chart.accuracyPoints, STEPS);
      t.regex(chart.readout, /kNN accuracy .* encoder \d+(\.\d)? %/);
      t.true(state.knn!.encoder! > 0.25, `kNN ${state.knn!.encoder} (4 classes: chance 0.25)`);
      // WebGL against cpu, the same steps from the same seed: float32 agreement.
      t.is(state.check!.cpu.length, CHECK_STEPS);
      t.true(state.check!.maxAbsDiff < 1e-3, `cpu ${state.check!.cpu} vs webgl ${state.check!.backend}`);
      t.deepEqual(consoleErrors, []);
      const ms = state.steps.slice(1).map((s) => s.ms).sort((a, b) => a - b);
      t.log(`renderer ${state.renderer}; bundle ${(built.bundleBytes / 1024).toFixed(0)} KiB; ${STEPS} steps, median ${ms[ms.length >> 1].toFixed(0)} ms/step after the first (${state.steps[0].ms.toFixed(0)} ms)`);
      t.log(`losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);
      t.log(`numTensors ${tensors[0]} at every step; kNN encoder ${state.knn!.encoder}, random init ${state.knn!.randomInit}, raw pixels ${state.knn!.rawPixels}`);
      t.log(`cpu vs webgl over ${CHECK_STEPS} steps: max |loss diff| ${state.check!.maxAbsDiff.toExponential(2)}; launch to result ${((performance.now() - started) / 1000).toFixed(1)} s; screenshot ${SCREENSHOT}`);

      // The fallback: wasm with tfjs-moco's training kernels (stock wasm lacks Conv2DBackpropFilter), also against cpu.
      const wasmPage = await browser.newPage();
      await wasmPage.goto(`${server.url}?steps=3&batch=${BATCH}&check=${CHECK_STEPS}&backend=wasm`);
      await wasmPage.waitForFunction('window.mocoSample !== undefined && window.mocoSample.status !== "running"', { timeout: 120_000, polling: 500 });
      const wasm = (await wasmPage.evaluate('window.mocoSample')) as SampleState;
      t.is(wasm.status, 'done', wasm.error);
      t.is(wasm.backend, 'wasm');
      t.is(wasm.steps.length, 3);
      t.true(wasm.steps.every((s) => Number.isFinite(s.loss)));
      t.true(wasm.check!.maxAbsDiff < 1e-3, `cpu ${wasm.check!.cpu} vs wasm ${wasm.check!.backend}`);
      t.log(`wasm fallback: losses ${wasm.steps.map((s) => s.loss.toFixed(3)).join(' ')}; cpu vs wasm max |loss diff| ${wasm.check!.maxAbsDiff.toExponential(2)}; ` +
        `launch to both results ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await browser.close();
      await server.close();
      await rm(outdir, { recursive: true, force: true });
      await rm(profile, { recursive: true, force: true });
    }
  });
}
