// Runs registered kernels of one backend directly, the way tfjs' own composite kernels do
// (cpu's UnsortedSegmentSum, wasm's Reverse): kernelFunc({inputs, backend, attrs}) in, TensorInfo
// out. Going around the engine matters inside a kernel: no tape recording, no tensor bookkeeping,
// and the intermediates never become engine tensors, so `tf.memory().numTensors` stays flat.
// The price is manual reference counting, which this scope does: every TensorInfo a kernel
// returns owns one backend reference (wasm's Reshape, for example, returns its input's dataId
// after incRef), and `dispose` drops one reference per intermediate.
import * as tf from '@tensorflow/tfjs-core';

export class KernelScope {
  private readonly intermediates: tf.TensorInfo[] = [];

  constructor(
    readonly backendName: string,
    readonly backend: tf.KernelBackend,
  ) {}

  /** Runs kernel `kernelName` of this backend; the result is disposed with the scope unless kept. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const config = tf.getKernel(kernelName, this.backendName);
    if (config == null) {
      throw new Error(`tfjs-moco: kernel '${kernelName}' is not registered for backend '${this.backendName}'`);
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      // None of the kernels composed here has several outputs; refuse rather than leak.
      for (const info of out) this.backend.disposeData(info.dataId);
      throw new Error(`tfjs-moco: kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
    }
    this.intermediates.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** A tensor of the given values on this backend (host → backend copy), disposed with the scope. */
  constant(shape: number[], dtype: 'float32' | 'int32', values: Float32Array | Int32Array): tf.TensorInfo {
    const dataId = this.backend.write(values, shape, dtype);
    const info: tf.TensorInfo = { dataId, shape, dtype };
    this.intermediates.push(info);
    return info;
  }

  /**
   * Hands one reference to `info` to the caller (the engine): an intermediate leaves the dispose
   * list; anything else (a kernel input passed through unchanged) gets an extra reference, as
   * tfjs' own pass-through kernels (Identity, Reshape) do.
   */
  keep(info: tf.TensorInfo): tf.TensorInfo {
    const i = this.intermediates.lastIndexOf(info);
    if (i >= 0) this.intermediates.splice(i, 1);
    else this.backend.incRef(info.dataId);
    return info;
  }

  dispose(): void {
    for (const info of this.intermediates) this.backend.disposeData(info.dataId);
    this.intermediates.length = 0;
  }
}

/** Runs `body` in a fresh scope and returns what it returns; every other intermediate is released, also on throw. */
export function withKernelScope(
  backendName: string,
  backend: tf.KernelBackend,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const scope = new KernelScope(backendName, backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
