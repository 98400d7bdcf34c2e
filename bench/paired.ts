// Paired rounds of tfjs (wasm, the library's step) against PyTorch (one thread), for a ratio that
// holds up on a machine whose speed drifts: this VM ran the same PyTorch step at 84 and at 184
// img/s minutes apart, so a ratio between numbers from different runs says little. Each round is
// one `npm run bench -- --json` invocation measuring PyTorch and then wasm back to back; the
// script prints every round and the median of the per-round ratios.
// Run: npx tsx bench/paired.ts [--models r18w16,small] [--rounds 3] [--steps 5] [--workers 0|2]
//   --workers 2 compares the library on two data-parallel workers (bench/workers.ts) with PyTorch
//   on two threads instead.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Row } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const models = opt('models', 'r18w16,small').split(',');
const rounds = Number(opt('rounds', '3'));
const steps = opt('steps', '5');
const workers = Number(opt('workers', '0'));
const command = `npx tsx bench/paired.ts ${process.argv.slice(2).join(' ')}`.trim();

function runJson(args: string[]): Row[] {
  const out = spawnSync(process.execPath, [...process.execArgv, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const start = out.stdout.indexOf('[');
  if (out.status !== 0 || start < 0) throw new Error(`${args.join(' ')} failed (${out.status}):\n${out.stderr.slice(-2000)}`);
  return JSON.parse(out.stdout.slice(start)) as Row[];
}

const lines: string[] = [];
const ratios: Record<string, number[]> = {};
const log = (s: string) => process.stderr.write(`${s}\n`);
lines.push(`Command: \`${command}\` · ${new Date().toISOString()}`, '');
lines.push(`| round | model | PyTorch ${workers ? `${workers}t` : '1t'} img/s | PyTorch BLAS | tfjs wasm ${workers ? `${workers} workers` : '1 thread'} img/s | tfjs / PyTorch | load |`);
lines.push('|---|---|---|---|---|---|---|');
for (let r = 1; r <= rounds; r++) {
  for (const model of models) {
    const threads = workers ? String(workers) : '1';
    const pt = runJson([path.join(here, 'run.ts'), '--models', model, '--backends', 'pytorch', '--threads', threads, '--steps', steps, '--json'])
      .find((row) => row.backend === 'pytorch' && row.threads === Number(threads));
    let tfjs: number | null;
    if (workers) {
      const w = runJson([path.join(here, 'workers.ts'), '--models', model, '--workers', String(workers), '--steps', steps, '--json']);
      tfjs = (w as unknown as Array<{ model: string; workers: number; imagesPerSecond: number }>)
        .find((row) => row.workers === workers)?.imagesPerSecond ?? null;
    } else {
      const rows = runJson([path.join(here, 'run.ts'), '--models', model, '--backends', 'wasm', '--harness', 'library', '--steps', steps, '--parts', '0', '--no-profile', '--json']);
      tfjs = rows.find((row) => row.backend === 'wasm')?.imagesPerSecond ?? null;
    }
    const p = pt?.imagesPerSecond ?? null;
    const ratio = p && tfjs ? tfjs / p : null;
    if (ratio) (ratios[model] ??= []).push(ratio);
    const blas = /BLAS ([^;]*)$/.exec(pt?.note ?? '')?.[1] ?? '—';
    const line = `| ${r} | ${model} | ${p?.toFixed(1) ?? '—'} | ${blas} | ${tfjs?.toFixed(1) ?? '—'} | ${ratio ? ratio.toFixed(2) : '—'} | ${os.loadavg()[0].toFixed(1)} |`;
    lines.push(line);
    log(line);
  }
}
lines.push('');
for (const [model, rs] of Object.entries(ratios)) lines.push(`${model}: median tfjs/PyTorch ${median(rs).toFixed(2)} over ${rs.length} rounds (min ${Math.min(...rs).toFixed(2)}, max ${Math.max(...rs).toFixed(2)})`);
process.stdout.write(lines.join('\n') + '\n');
