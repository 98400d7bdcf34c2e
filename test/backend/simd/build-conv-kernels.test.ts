// The SIMD kernels ship as WebAssembly embedded in conv-kernels-wasm.ts. This compiles the
// AssemblyScript source again with the committed flags and checks the bytes are the same, so the
// binary in the repository is the one its source produces (rebuild: `npm run build:simd`).
import test from 'ava';
import { compileConvKernels, embeddedModuleText } from '../../../src/backend/simd/build-conv-kernels.js';
import { CONV_KERNELS_WASM_BASE64 } from '../../../src/backend/simd/conv-kernels-wasm.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

test('the embedded SIMD kernels are what conv-kernels.as.ts compiles to', async (t) => {
  const binary = await compileConvKernels();
  t.is(Buffer.from(binary).toString('base64'), CONV_KERNELS_WASM_BASE64, 'run `npm run build:simd` after editing the source');
  const file = fileURLToPath(new URL('../../../src/backend/simd/conv-kernels-wasm.ts', import.meta.url));
  t.is(readFileSync(file, 'utf8'), embeddedModuleText(binary));
  // A wasm binary (magic number and version 1), small enough to embed.
  t.deepEqual(Array.from(binary.subarray(0, 8)), [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  t.true(binary.length < 16384, `${binary.length} bytes`);
});
