// selectBackend's decisions, with the optional packages simulated by an injected importer: the
// tfjs-node pair cannot be installed here, so stand-ins register a 'tensorflow' backend the way
// tfjs-node's index.ts does (registerBackend + a backend carrying isGPUPackage/isUsingGpuDevice).
import test from 'ava';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isMocoKernel } from '../../src/kernels/kernel-registration.js';
import { selectBackend, type ModuleImporter } from '../../src/kernels/select-backend.js';
import { missingTrainingKernels } from '../../src/kernels/training-kernels.js';

const GPU = '@tensorflow/tfjs-node-gpu';
const NODE = '@tensorflow/tfjs-node';
const WASM = '@tensorflow/tfjs-backend-wasm';

/** Stand-in for NodeJSKernelBackend: only the two flags selectBackend reads. */
class FakeTensorflowBackend extends tf.KernelBackend {
  constructor(
    readonly isGPUPackage: boolean,
    readonly isUsingGpuDevice: boolean,
  ) {
    super();
  }

  override dispose(): void {}
}

type PackageBehaviour = 'missing' | 'broken' | (() => unknown);

function notFound(pkg: string): Error {
  // What Node's ESM loader throws for an absent package.
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /work/main/src/kernels/select-backend.ts`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

/** An importer where every package not listed is missing; records the specifiers asked for. */
function fakeImporter(packages: Record<string, PackageBehaviour>): ModuleImporter & { calls: string[] } {
  const calls: string[] = [];
  const importer = async (specifier: string): Promise<unknown> => {
    calls.push(specifier);
    const behaviour = packages[specifier] ?? 'missing';
    if (behaviour === 'missing') throw notFound(specifier);
    if (behaviour === 'broken') {
      // e.g. an install whose native addon was never built
      throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/binding.node');
    }
    return await behaviour();
  };
  return Object.assign(importer, { calls });
}

/** Registers a 'tensorflow' backend as importing tfjs-node(-gpu) would. */
const tensorflowPackage = (gpuPackage: boolean, gpuDevice: boolean) => () => {
  tf.registerBackend('tensorflow', () => new FakeTensorflowBackend(gpuPackage, gpuDevice), 3);
};

const realWasm = () => import('@tensorflow/tfjs-backend-wasm');

test.afterEach.always(async () => {
  await tf.setBackend('cpu');
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
});

test.serial('auto: a GPU package with a GPU device wins, nothing else is imported', async (t) => {
  const importer = fakeImporter({ [GPU]: tensorflowPackage(true, true) });
  const lines: string[] = [];
  const choice = await selectBackend({ importer, log: (m) => lines.push(m) });
  t.like(choice, { name: 'tensorflow', package: GPU, gpu: true });
  t.deepEqual(choice.tried.map((a) => [a.package, a.ok]), [[GPU, true]]);
  t.deepEqual(importer.calls, [GPU]);
  t.is(tf.getBackend(), 'tensorflow');
  t.deepEqual(lines, [`tfjs-moco: backend tensorflow (${GPU}): libtensorflow 2.9.1 on a CUDA GPU`]);
});

test.serial('auto: the GPU package without a GPU device falls through to its CPU kernels, never importing tfjs-node', async (t) => {
  const importer = fakeImporter({ [GPU]: tensorflowPackage(true, false), [NODE]: () => t.fail('tfjs-node imported') });
  const choice = await selectBackend({ importer });
  t.like(choice, { name: 'tensorflow', package: GPU, gpu: false });
  t.deepEqual(choice.tried.map((a) => [a.package, a.ok]), [[GPU, false], [GPU, true]]);
  t.regex(choice.tried[0].reason, /no GPU device/);
  t.regex(choice.reason, /CPU kernels/);
  t.regex(choice.reason, /passed over: @tensorflow\/tfjs-node-gpu: loaded, but TensorFlow sees no GPU device/);
  t.deepEqual(importer.calls, [GPU]);
});

test.serial('auto: without the GPU package, tfjs-node is used', async (t) => {
  const importer = fakeImporter({ [NODE]: tensorflowPackage(false, false) });
  const choice = await selectBackend({ importer, needsTraining: true });
  t.like(choice, { name: 'tensorflow', package: NODE, gpu: false });
  t.deepEqual(choice.tried, [
    { package: GPU, ok: false, reason: 'not installed' },
    { package: NODE, ok: true, reason: 'libtensorflow 2.9.1 CPU kernels (native, multi-threaded)' },
  ]);
  t.deepEqual(importer.calls, [GPU, NODE]);
});

test.serial('auto: a broken GPU package is reported and tfjs-node is not loaded next to it', async (t) => {
  const importer = fakeImporter({ [GPU]: 'broken', [NODE]: () => t.fail('tfjs-node imported'), [WASM]: realWasm });
  const choice = await selectBackend({ importer, needsTraining: true });
  t.like(choice, { name: 'wasm', package: WASM, gpu: false });
  t.deepEqual(choice.tried.map((a) => [a.package, a.ok]), [[GPU, false], [NODE, false], [WASM, true]]);
  t.regex(choice.tried[0].reason, /^installed but failed to load: The Node\.js native addon/);
  t.regex(choice.tried[1].reason, /^not imported/);
  t.deepEqual(importer.calls, [GPU, WASM]);
});

test.serial('auto: neither tfjs-node package -> wasm with the training kernels registered', async (t) => {
  const importer = fakeImporter({ [WASM]: realWasm });
  const lines: string[] = [];
  const choice = await selectBackend({ importer, needsTraining: true, log: (m) => lines.push(m) });
  t.like(choice, { name: 'wasm', package: WASM, gpu: false });
  t.deepEqual(choice.tried.map((a) => [a.package, a.ok, a.reason === 'not installed']), [
    [GPU, false, true], [NODE, false, true], [WASM, true, false],
  ]);
  t.is(tf.getBackend(), 'wasm');
  t.deepEqual(missingTrainingKernels('wasm'), []);
  t.true(isMocoKernel('Conv2DBackpropFilter', 'wasm'));
  t.is(lines.length, 1);
  t.regex(lines[0], /^tfjs-moco: backend wasm \(@tensorflow\/tfjs-backend-wasm\): XNNPACK/);
});

test.serial('auto: nothing optional installed -> cpu with the faster Conv2DBackpropFilter', async (t) => {
  const importer = fakeImporter({});
  const choice = await selectBackend({ importer });
  t.like(choice, { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', gpu: false });
  t.deepEqual(choice.tried.map((a) => [a.package, a.ok]), [
    [GPU, false], [NODE, false], [WASM, false], ['@tensorflow/tfjs-backend-cpu', true],
  ]);
  t.deepEqual(importer.calls, [GPU, NODE, WASM]);
  t.is(tf.getBackend(), 'cpu');
  t.true(isMocoKernel('Conv2DBackpropFilter', 'cpu'));
});

test.serial('auto + needsTraining: a wasm backend missing a training kernel is passed over for cpu', async (t) => {
  await realWasm();
  const step = tf.getKernel('Step', 'wasm');
  t.truthy(step);
  tf.unregisterKernel('Step', 'wasm');
  try {
    const choice = await selectBackend({ importer: fakeImporter({ [WASM]: realWasm }), needsTraining: true });
    t.is(choice.name, 'cpu');
    t.deepEqual(choice.tried[2], { package: WASM, ok: false, reason: 'lacks training kernels: Step' });
    // without needsTraining the same wasm backend is fine
    const inference = await selectBackend({ importer: fakeImporter({ [WASM]: realWasm }) });
    t.is(inference.name, 'wasm');
  } finally {
    tf.registerKernel(step!);
  }
});

test.serial('forced preferences that cannot load throw, naming the package and how to install it', async (t) => {
  const gpu = await t.throwsAsync(selectBackend({ prefer: 'tensorflow-gpu', importer: fakeImporter({}) }));
  t.regex(gpu!.message, /'tensorflow-gpu' was requested but cannot be used: @tensorflow\/tfjs-node-gpu not installed/);
  t.regex(gpu!.message, /npm install @tensorflow\/tfjs-node-gpu/);

  const noDevice = await t.throwsAsync(
    selectBackend({ prefer: 'tensorflow-gpu', importer: fakeImporter({ [GPU]: tensorflowPackage(true, false) }) }),
  );
  t.regex(noDevice!.message, /sees no GPU device/);
  await tf.setBackend('cpu');
  tf.removeBackend('tensorflow');

  const node = await t.throwsAsync(selectBackend({ prefer: 'tensorflow', importer: fakeImporter({}) }));
  t.regex(node!.message, /@tensorflow\/tfjs-node not installed/);
  t.regex(node!.message, /npm install @tensorflow\/tfjs-node@4\.22\.0/);

  const wasm = await t.throwsAsync(selectBackend({ prefer: 'wasm', importer: fakeImporter({}) }));
  t.regex(wasm!.message, /'wasm' was requested but cannot be used: @tensorflow\/tfjs-backend-wasm not installed/);
  t.regex(wasm!.message, /npm install @tensorflow\/tfjs-backend-wasm/);
});

test.serial("prefer 'tensorflow' accepts the GPU package when tfjs-node is absent", async (t) => {
  const importer = fakeImporter({ [GPU]: tensorflowPackage(true, false) });
  const choice = await selectBackend({ prefer: 'tensorflow', importer });
  t.like(choice, { name: 'tensorflow', package: GPU, gpu: false });
  t.deepEqual(importer.calls, [NODE, GPU]);
});

test.serial('forced wasm and cpu', async (t) => {
  const wasm = await selectBackend({ prefer: 'wasm', needsTraining: true, importer: fakeImporter({ [WASM]: realWasm }) });
  t.like(wasm, { name: 'wasm', gpu: false });
  t.is(wasm.tried.length, 1);
  const cpu = await selectBackend({ prefer: 'cpu', importer: fakeImporter({}) });
  t.like(cpu, { name: 'cpu', gpu: false });
  t.is(tf.getBackend(), 'cpu');
});

test.serial('the default importer treats the absent tfjs-node packages as not installed', async (t) => {
  // Real dynamic imports: on this machine neither tfjs-node package can be installed.
  const choice = await selectBackend({ needsTraining: true });
  t.is(choice.name, 'wasm');
  t.deepEqual(choice.tried.slice(0, 2), [
    { package: GPU, ok: false, reason: 'not installed' },
    { package: NODE, ok: false, reason: 'not installed' },
  ]);
});
