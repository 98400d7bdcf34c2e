// The SIMD kernels ship as WebAssembly embedded in conv-kernels-wasm.ts. This compiles the
// AssemblyScript source again with the committed flags and checks the bytes are the same, so the
// binary in the repository is the one its source produces (rebuild: `npm run build:simd`).
import test from 'ava';
import { compileConvKernels, embeddedModuleText } from '../../../src/kernels/simd/build-conv-kernels.js';
import { CONV_KERNELS_RELAXED_WASM_BASE64, CONV_KERNELS_WASM_BASE64 } from '../../../src/kernels/simd/conv-kernels-wasm.js';
import { relaxedSimdAvailable } from '../../../src/kernels/simd-conv.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

test('both embedded builds of the SIMD kernels are what conv-kernels.as.ts compiles to', async (t) => {
  const [binary, relaxed] = await Promise.all([compileConvKernels('mul-add'), compileConvKernels('relaxed')]);
  t.is(Buffer.from(binary).toString('base64'), CONV_KERNELS_WASM_BASE64, 'run `npm run build:simd` after editing the source');
  t.is(Buffer.from(relaxed).toString('base64'), CONV_KERNELS_RELAXED_WASM_BASE64, 'run `npm run build:simd` after editing the source');
  const file = fileURLToPath(new URL('../../../src/kernels/simd/conv-kernels-wasm.ts', import.meta.url));
  t.is(readFileSync(file, 'utf8'), embeddedModuleText(binary, relaxed));
  for (const b of [binary, relaxed]) {
    // A wasm binary (magic number and version 1), small enough to embed.
    t.deepEqual(Array.from(b.subarray(0, 8)), [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    t.true(b.length < 16384, `${b.length} bytes`);
  }
  // The relaxed build really differs: relaxed_madd (0xfd 0x85 0x02) appears in it and not in the other.
  const hasMadd = (b: Uint8Array) => Buffer.from(b).includes(Buffer.from([0xfd, 0x85, 0x02]));
  t.true(hasMadd(relaxed));
  t.false(hasMadd(binary));
});

// The WebAssembly API as used here (lib "ES2022" and @types/node 20.9 do not declare it).
declare const WebAssembly: {
  Module: { new (bytes: Uint8Array): object; imports(module: object): Array<{ module: string; name: string; kind: string }> };
};

/** The ids of a wasm binary's sections, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++]);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    at += size;
  }
  return ids;
}

for (const [name, base64] of [['mul-add', CONV_KERNELS_WASM_BASE64], ['relaxed', CONV_KERNELS_RELAXED_WASM_BASE64]] as const) test(`the ${name} kernels import their memory and carry no data segment, so instantiating them on the wasm backend\'s memory writes nothing`, (t) => {
  const bytes = new Uint8Array(Buffer.from(base64, 'base64'));
  if (name === 'relaxed') t.true(relaxedSimdAvailable(), 'this Node compiles relaxed SIMD once the library has turned on its V8 flag');
  const module = new WebAssembly.Module(bytes);
  t.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  const ids = sectionIds(bytes);
  t.true(ids.includes(2) && ids.includes(10), `sections ${ids.join(',')}`); // imports and code are there
  t.false(ids.includes(11), 'a data section (static data, e.g. from memory.data) would be copied into tfjs\'s heap');
  t.false(ids.includes(5), 'no memory of its own');
});
