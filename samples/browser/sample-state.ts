// What the page leaves in `window.mocoSample`: its progress and outcome, read by the browser test.

/** The page's state; `status` turns from 'running' to 'done' or 'error' once. */
export interface SampleState {
  status: 'running' | 'done' | 'error';
  backend?: string;
  renderer?: string;
  steps: Array<{ step: number; loss: number; pretextAccuracy: number; numTensors: number; ms: number }>;
  knn?: { encoder: number | null; randomInit: number | null; rawPixels: number | null };
  /** Per-step loss on cpu and on the page's backend from the same seed (the `check` parameter). */
  check?: { cpu: number[]; backend: number[]; maxAbsDiff: number };
  error?: string;
  seconds?: number;
}
