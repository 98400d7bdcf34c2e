// `npx tsx bench/data-parallel.ts [--model small|r18w16] [--batch 128] [--steps 6] [--queue 4096]`: does
// data parallelism over worker_threads use the second core? Each worker has its own wasm backend (wasm runs on
// one thread in Node) and a replica of both encoders; it computes the MoCo step of the plain loop on its half
// of the batch, the gradients are averaged and the keys gathered through SharedArrayBuffers, and every worker
// applies the same update (bench/data-parallel-worker.ts). Three runs of the same steps:
//   1 worker, whole batch          the single-thread speed
//   1 worker, 2 halves in turn     the same arithmetic as 2 workers (BatchNorm per half), one thread: the
//                                  reference for correctness
//   2 workers, one half each       data parallel
// Correct when the 2-worker losses and weights equal the 2-halves run's; worth it when its images/s are higher.
// The prototype that measured the idea with the plain loop; the library trains data-parallel with its own
// implementation (src/node/execution/, fit option `workers`, timed by bench/workers.ts).
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { median, type ModelId } from './common.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const model = arg('model', 'small') as ModelId;
const batch = Number(arg('batch', '128'));
const steps = Number(arg('steps', '6'));
const queue = Number(arg('queue', '4096'));
const warmup = 1;
const DIM = 128;

interface Result {
  rank: number;
  times: number[];
  losses: number[];
  checksum: number;
  numTensors: number;
}

async function run(workers: number, parts: number): Promise<Result[]> {
  const shares = workers * parts;
  const params = 2_000_000 * (model === 'r18w64' ? 8 : 1); // upper bound of the trainable parameters
  const grads = new SharedArrayBuffer(4 * shares * params);
  const keys = new SharedArrayBuffer(4 * batch * DIM);
  const losses = new SharedArrayBuffer(4 * shares);
  const barrier = new SharedArrayBuffer(8);
  const boot = new URL('./worker-boot.mjs', import.meta.url);
  const entry = new URL('./data-parallel-worker.ts', import.meta.url).href;
  return Promise.all(
    Array.from({ length: workers }, (_, rank) => {
      const w = new Worker(boot, { workerData: { entry, rank, workers, parts, model, batch, queue, steps: steps + warmup, grads, keys, losses, barrier } });
      return new Promise<Result>((resolve, reject) => {
        w.once('message', (m: Result) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    }),
  );
}

const rows: string[] = [];
const cpu0 = process.cpuUsage();
const single = await run(1, 1);
const halves = await run(1, 2);
const parallel = await run(2, 1);
const ips = (r: Result) => batch / (median(r.times.slice(warmup)) / 1000);
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
rows.push(`| 1 worker, whole batch | ${ips(single[0]).toFixed(1)} | ${single[0].losses.map((l) => l.toFixed(4)).join(' ')} | ${single[0].checksum.toFixed(3)} |`);
rows.push(`| 1 worker, 2 halves in turn | ${ips(halves[0]).toFixed(1)} | ${halves[0].losses.map((l) => l.toFixed(4)).join(' ')} | ${halves[0].checksum.toFixed(3)} |`);
for (const r of parallel) rows.push(`| 2 workers: rank ${r.rank} | ${ips(r).toFixed(1)} | ${r.losses.map((l) => l.toFixed(4)).join(' ')} | ${r.checksum.toFixed(3)} |`);
const lossDiff = maxDiff(parallel[0].losses, halves[0].losses);
const checksumDiff = Math.abs(parallel[0].checksum - halves[0].checksum) / halves[0].checksum;
const replicaDiff = Math.abs(parallel[0].checksum - parallel[1].checksum);
console.log(`Command: \`npx tsx bench/data-parallel.ts --model ${model} --batch ${batch} --steps ${steps} --queue ${queue}\``);
console.log(`Date: ${new Date().toISOString()} · ${os.cpus()[0]?.model} ×${os.cpus().length} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} · wasm, one thread per worker`);
console.log('');
console.log(`${model}, batch ${batch}, K ${queue}; img/s = batch ÷ median step wall time after ${warmup} warm-up step; losses of every step; checksum = Σ|θ| of the query encoder at the end.`);
console.log('');
console.log('| run | img/s | losses | checksum |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('');
console.log(`2 workers vs 2 halves in turn: max |Δ loss| ${lossDiff.toExponential(2)}, relative Δ checksum ${checksumDiff.toExponential(2)}; the two replicas differ by ${replicaDiff.toExponential(2)}.`);
console.log(`Speed-up of 2 workers over 1 worker (whole batch): ${(ips(parallel[0]) / ips(single[0])).toFixed(2)}×; over 2 halves in turn: ${(ips(parallel[0]) / ips(halves[0])).toFixed(2)}×. Parent CPU ${(process.cpuUsage(cpu0).user / 1e6).toFixed(0)} s.`);
