/**
 * A tiny seeded generator (mulberry32) for the data module's shuffles and subsets. Data order must repeat
 * exactly for a given seed across runs and machines, which Math.random cannot give; 32 bits of state are plenty
 * for permuting a data set, and it is a few lines with no dependency.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Combines a seed with a counter (e.g. the epoch) into a new 32-bit seed, so that successive epochs get
 * unrelated orders while the whole sequence still follows from the one seed.
 */
export function mixSeed(seed: number, counter: number): number {
  let h = (seed >>> 0) ^ Math.imul(counter + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A fresh seed for callers that asked for a shuffle without giving one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}

/** 0..n-1 in a random order (Fisher-Yates), fully determined by `seed`. */
export function shuffledIndices(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, seed);
  return order;
}

/** Fisher-Yates in place, fully determined by `seed`. */
export function shuffleInPlace(values: { [i: number]: number; length: number }, seed: number): void {
  const rand = mulberry32(seed);
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = values[i];
    values[i] = values[j];
    values[j] = t;
  }
}
