// The page's backend: WebGL (the GPU every browser has) first, then WebAssembly with tfjs-moco's training
// kernels (stock tfjs-backend-wasm has no Conv2DBackpropFilter, so it cannot train a conv net on its own),
// then the plain cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { missingTrainingKernels, registerCpuTrainingKernels, registerWasmTrainingKernels } from '../../src/index.js'; // 'tfjs-moco'

export type PageBackend = 'webgl' | 'wasm' | 'cpu';

export interface BackendInUse {
  name: PageBackend;
  /** What runs it: the WebGL renderer, or why a preferred backend was passed over. */
  detail: string;
}

/** The unmasked WebGL renderer (e.g. SwiftShader when the GPU is emulated), or why it is unknown. */
function webglRenderer(): string {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'no WebGL 2 context';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
}

async function tryBackend(name: PageBackend): Promise<string | null> {
  try {
    if (name === 'wasm') {
      setWasmPaths(new URL('./', document.baseURI).href); // the build copies the .wasm files next to the page
      registerWasmTrainingKernels();
    }
    if (name === 'cpu') registerCpuTrainingKernels();
    if (!(await tf.setBackend(name))) return 'failed to initialise';
    if (name === 'wasm') registerWasmTrainingKernels(); // again, now that the stock kernels exist to be replaced
    const missing = missingTrainingKernels(name);
    return missing.length > 0 ? `lacks training kernels: ${missing.join(', ')}` : null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Activates `prefer`, or with 'auto' the first of webgl, wasm, cpu that initialises and has every kernel a
 * MoCo training step needs.
 *
 * @example
 * const { name, detail } = await useBrowserBackend('auto'); // 'webgl', 'ANGLE (…SwiftShader…)'
 */
export async function useBrowserBackend(prefer: PageBackend | 'auto'): Promise<BackendInUse> {
  const order: PageBackend[] = prefer === 'auto' ? ['webgl', 'wasm', 'cpu'] : [prefer];
  const skipped: string[] = [];
  for (const name of order) {
    const problem = await tryBackend(name);
    if (problem === null) {
      const detail = name === 'webgl' ? webglRenderer() : name;
      return { name, detail: skipped.length > 0 ? `${detail} (${skipped.join('; ')})` : detail };
    }
    skipped.push(`${name}: ${problem}`);
  }
  throw new Error(`no backend can train here: ${skipped.join('; ')}`);
}
