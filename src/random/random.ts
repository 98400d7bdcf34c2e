/**
 * `seed` made safe for tfjs's random ops and initialisers, which treat 0 as "no seed" and draw from
 * Math.random (tfjs-core rand_util: `seed ? seed : Math.random()`). 0 maps to 2³¹−1, outside the range
 * `seed + i` reaches for the seeds configs allow in practice; every other value passes unchanged.
 */
export function tfjsSeed(seed: number): number {
  return seed === 0 ? 2147483647 : seed;
}

/**
 * A small seeded generator (SplitMix32-style mixing over a 32-bit counter) whose whole state is one
 * number, so a checkpoint can store it and a resumed run draws exactly what it would have drawn.
 * tfjs random ops take an integer seed; `seed()` hands them one derived from this stream.
 */
export class Random {
  private counter: number;

  constructor(seed = 0) {
    this.counter = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    this.counter = (this.counter + 0x9e3779b9) >>> 0;
    let z = this.counter;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A seed for one tfjs random op. */
  seed(): number {
    return tfjsSeed(this.uint32() % 2147483647);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The permutation that undoes `perm`: inverse[perm[i]] = i (gathering with it restores the order). */
  static inverse(perm: Int32Array): Int32Array {
    const inverse = new Int32Array(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return inverse;
  }

  getState(): number {
    return this.counter;
  }

  setState(state: number): void {
    this.counter = state >>> 0;
  }
}
