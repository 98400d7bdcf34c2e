// The SIMD kernels ship as WebAssembly embedded in conv-kernels-wasm.ts. This compiles the
// AssemblyScript source again with the committed flags and checks the bytes are the same, so the
// binary in the repository is the one its source produces (rebuild: `npm run build:simd`).
import test from 'ava';
import { compileConvKernels, embeddedModuleText } from '../../../src/kernels/simd/build-conv-kernels.js';
import { CONV_KERNELS_WASM_BASE64 } from '../../../src/kernels/simd/conv-kernels-wasm.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

test('the embedded SIMD kernels are what conv-kernels.as.ts compiles to', async (t) => {
  const binary = await compileConvKernels();
  t.is(Buffer.from(binary).toString('base64'), CONV_KERNELS_WASM_BASE64, 'run `npm run build:simd` after editing the source');
  const file = fileURLToPath(new URL('../../../src/kernels/simd/conv-kernels-wasm.ts', import.meta.url));
  t.is(readFileSync(file, 'utf8'), embeddedModuleText(binary));
  // A wasm binary (magic number and version 1), small enough to embed.
  t.deepEqual(Array.from(binary.subarray(0, 8)), [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  t.true(binary.length < 16384, `${binary.length} bytes`);
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

test('the kernels import their memory and carry no data segment, so instantiating them on the wasm backend\'s memory writes nothing', (t) => {
  const bytes = new Uint8Array(Buffer.from(CONV_KERNELS_WASM_BASE64, 'base64'));
  const module = new WebAssembly.Module(bytes);
  t.deepEqual(WebAssembly.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  const ids = sectionIds(bytes);
  t.true(ids.includes(2) && ids.includes(10), `sections ${ids.join(',')}`); // imports and code are there
  t.false(ids.includes(11), 'a data section (static data, e.g. from memory.data) would be copied into tfjs\'s heap');
  t.false(ids.includes(5), 'no memory of its own');
});
