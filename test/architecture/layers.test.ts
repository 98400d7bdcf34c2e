// The layout's promises, checked on the sources: no import cycles in src/, lower layers never import upper
// ones, and the library's main entry imports nothing from Node (it is bundled for browsers).
import test from 'ava';
import { importCycles, importGraph, reachable } from './import-graph.js';

const graph = importGraph('src');

/** The folder (or top-level file) of a module: 'src/step/moco-step.ts' → 'step'. */
const area = (module: string) => module.split('/')[1].replace(/\.ts$/, '');

/** For each area, the areas above it that it must not import. */
const ABOVE: Record<string, string[]> = {
  random: ['math', 'strategies', 'registry', 'config', 'step', 'execution', 'training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  math: ['strategies', 'registry', 'config', 'step', 'execution', 'training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  strategies: ['step', 'execution', 'training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  'image-ops': ['step', 'execution', 'training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  models: ['step', 'execution', 'training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  step: ['execution', 'training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  execution: ['training', 'checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  training: ['checkpoint', 'eval', 'node', 'moco', 'resume-moco', 'index'],
  checkpoint: ['eval', 'node', 'moco', 'resume-moco', 'index'],
  moco: ['node', 'resume-moco', 'index'],
};

test('the import graph was read: the main entry reaches the step, the executors and the fit loop', (t) => {
  const fromMain = reachable(graph, 'src/index.ts');
  for (const m of ['src/step/moco-step.ts', 'src/execution/micro-batch-executor.ts', 'src/training/fit-loop.ts', 'src/checkpoint/checkpoint-state.ts']) {
    t.true(fromMain.has(m), m);
  }
  t.true(graph.size > 80, `${graph.size} modules`);
});

test('src/ has no import cycle', (t) => {
  t.deepEqual(importCycles(graph), []);
});

test('a cycle is found when there is one (the checker itself)', (t) => {
  const g = new Map([
    ['a.ts', { local: ['b.ts'], external: [] }],
    ['b.ts', { local: ['c.ts'], external: [] }],
    ['c.ts', { local: ['a.ts'], external: [] }],
    ['d.ts', { local: ['a.ts'], external: [] }],
  ]);
  t.deepEqual(importCycles(g), [['a.ts', 'b.ts', 'c.ts']]);
});

test('lower layers import no upper layer', (t) => {
  const wrong: string[] = [];
  for (const [module, { local }] of graph) {
    const forbidden = ABOVE[area(module)] ?? [];
    for (const target of local) if (forbidden.includes(area(target))) wrong.push(`${module} → ${target}`);
  }
  t.deepEqual(wrong, []);
});

test('only src/node/ imports src/node/', (t) => {
  const wrong = [...graph].flatMap(([module, { local }]) => (area(module) === 'node' ? [] : local.filter((m) => area(m) === 'node').map((m) => `${module} → ${m}`)));
  t.deepEqual(wrong, []);
});

test("the main entry's static imports include nothing from node:", (t) => {
  const fromMain = [...reachable(graph, 'src/index.ts')];
  const nodeImports = fromMain.flatMap((m) => (graph.get(m)?.external ?? []).filter((spec) => spec.startsWith('node:')).map((spec) => `${m}: ${spec}`));
  t.deepEqual(nodeImports, []);
  // The Node entry does reach worker_threads: the check sees node: imports where they are.
  const fromNode = [...reachable(graph, 'src/node/index.ts')];
  t.true(fromNode.some((m) => graph.get(m)?.external.includes('node:worker_threads')));
});
