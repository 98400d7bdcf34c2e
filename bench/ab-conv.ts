// Per-layer timing of the library's SIMD conv kernels (forward, filter gradient, input gradient) at the
// layer shapes of one encoder, with the two builds of the kernels alternating call by call (mul+add,
// then fused multiply-add by relaxed SIMD, or the other order every second rep), so machine drift hits
// both alike. Prints ms (median of --reps), GFLOP/s (2 × MACs / time) and the per-rep ratio fma / mul+add.
// Run: npx tsx bench/ab-conv.ts [--model small|small64|r18w16] [--batch 128] [--reps 7]
// Arrays go through the kernels' own memory (simdConv2D & co.), as in the tests: the copies in and out
// are inside the timed call, so absolute times are a little above the in-place route the training step
// takes; the ratio between builds is what this is for.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  setSimdConvFma,
  simdConv2D,
  simdConv2DBackpropFilter,
  simdConv2DBackpropInput,
  simdConvRoute,
  type SimdFma,
} from '../src/kernels/simd-conv.js';
import { median } from './common.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const model = opt('model', 'small');
const batch = Number(opt('batch', '128'));
const reps = Number(opt('reps', '7'));

type Layer = [name: string, h: number, ci: number, co: number, k: number, stride: number];
// The convolutions of each encoder once per distinct shape, with how often the shape occurs.
const LAYERS: Record<string, Array<[Layer, number]>> = {
  small: [
    [['stem 3x3 1→16', 28, 1, 16, 3, 1], 1],
    [['stage1 3x3 16→32 s2', 28, 16, 32, 3, 2], 1],
    [['stage1 1x1 16→32 s2', 28, 16, 32, 1, 2], 1],
    [['stage1 3x3 32→32', 14, 32, 32, 3, 1], 1],
    [['stage2 3x3 32→64 s2', 14, 32, 64, 3, 2], 1],
    [['stage2 1x1 32→64 s2', 14, 32, 64, 1, 2], 1],
    [['stage2 3x3 64→64', 7, 64, 64, 3, 1], 1],
    [['stage3 3x3 64→128 s2', 7, 64, 128, 3, 2], 1],
    [['stage3 1x1 64→128 s2', 7, 64, 128, 1, 2], 1],
    [['stage3 3x3 128→128', 4, 128, 128, 3, 1], 1],
  ],
  // The 64-d layout: smallConvNet({ stageWidths: [16, 32, 64], stageStrides: [1, 2, 2] }).
  small64: [
    [['stem 3x3 1→16', 28, 1, 16, 3, 1], 1],
    [['stage1 3x3 16→16', 28, 16, 16, 3, 1], 2],
    [['stage2 3x3 16→32 s2', 28, 16, 32, 3, 2], 1],
    [['stage2 1x1 16→32 s2', 28, 16, 32, 1, 2], 1],
    [['stage2 3x3 32→32', 14, 32, 32, 3, 1], 1],
    [['stage3 3x3 32→64 s2', 14, 32, 64, 3, 2], 1],
    [['stage3 1x1 32→64 s2', 14, 32, 64, 1, 2], 1],
    [['stage3 3x3 64→64', 7, 64, 64, 3, 1], 1],
  ],
  r18w16: [
    [['stem 3x3 3→16', 32, 3, 16, 3, 1], 1],
    [['3x3 16→16', 32, 16, 16, 3, 1], 4],
    [['3x3 16→32 s2', 32, 16, 32, 3, 2], 1],
    [['1x1 16→32 s2', 32, 16, 32, 1, 2], 1],
    [['3x3 32→32', 16, 32, 32, 3, 1], 3],
    [['3x3 32→64 s2', 16, 32, 64, 3, 2], 1],
    [['1x1 32→64 s2', 16, 32, 64, 1, 2], 1],
    [['3x3 64→64', 8, 64, 64, 3, 1], 3],
    [['3x3 64→128 s2', 8, 64, 128, 3, 2], 1],
    [['1x1 64→128 s2', 8, 64, 128, 1, 2], 1],
    [['3x3 128→128', 4, 128, 128, 3, 1], 3],
  ],
};

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const modes: SimdFma[] = ['off', 'relaxed'];
const lines = [
  `Command: \`npx tsx bench/ab-conv.ts ${argv.join(' ')}\``.replace(' `', '`'),
  `Date: ${new Date().toISOString()} · ${os.cpus()[0]?.model} ×${os.cpus().length} · node ${process.version} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} · ${model}, batch ${batch}, ${reps} reps`,
  '',
  '| layer | ×/step | kernel | route | mul+add ms | GFLOP/s | fma ms | GFLOP/s | fma / mul+add: median (min–max) |',
  '|---|---|---|---|---|---|---|---|---|',
];
const totals: Record<string, number> = { off: 0, relaxed: 0 };
for (const [[name, h, ci, co, k, stride], count] of LAYERS[model]) {
  const info = tf.backend_util.computeConv2DInfo([batch, h, h, ci], [k, k, ci, co], stride, 1, 'same');
  const x = values(batch * h * h * ci, 1);
  const w = values(k * k * ci * co, 2);
  const dy = values(tf.util.sizeFromShape(info.outShape), 3);
  const macs = batch * info.outHeight * info.outWidth * co * k * k * ci;
  const kernels: Array<[string, () => unknown]> = [
    ['forward', () => simdConv2D(x, w, info, { relu: true })],
    ['dW', () => simdConv2DBackpropFilter(x, dy, info)],
  ];
  // The stem's input gradient is never needed (the images are not trained).
  if (!name.startsWith('stem')) kernels.push(['dX', () => simdConv2DBackpropInput(dy, w, info)]);
  for (const [kernel, run] of kernels) {
    const ms: Record<string, number[]> = { off: [], relaxed: [] };
    const ratios: number[] = [];
    for (let r = -1; r < reps; r++) {
      const order = r % 2 ? modes : [...modes].reverse();
      const t: Record<string, number> = {};
      for (const m of order) {
        setSimdConvFma(m);
        const t0 = performance.now();
        run();
        t[m] = performance.now() - t0;
      }
      if (r < 0) continue; // warm-up: compiles, grows memory
      ms.off.push(t.off);
      ms.relaxed.push(t.relaxed);
      ratios.push(t.relaxed / t.off);
    }
    const [a, b] = [median(ms.off), median(ms.relaxed)];
    totals.off += a * count;
    totals.relaxed += b * count;
    const gf = (v: number) => ((2 * macs) / (v * 1e6)).toFixed(1);
    const route = kernel === 'forward' ? simdConvRoute(info) : kernel === 'dW' ? 'dW' : 'dX';
    lines.push(`| ${name} | ${count} | ${kernel} | ${route} | ${a.toFixed(1)} | ${gf(a)} | ${b.toFixed(1)} | ${gf(b)} | ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}) |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
}
setSimdConvFma('auto');
lines.push('', `One query pass's convolutions (forward + dW + dX, × occurrences): mul+add ${totals.off.toFixed(0)} ms, fma ${totals.relaxed.toFixed(0)} ms (${(totals.relaxed / totals.off).toFixed(3)}).`);
process.stdout.write(lines.join('\n') + '\n');
