// The ablation studies: each a grid of cells, every cell a config override over one shared base recipe. The
// studies follow the MoCo paper's ablations (He et al. 2020): the three mechanisms against K (Fig. 3), the
// momentum m (Table in §4.1), Shuffle BN (App. A.9) and the queue size K (the MoCo curve of Fig. 3).
import { mergeOverPreset, type MocoConfigInput } from '../../src/config/moco-config.js';
import { fmnistDefault } from '../../plugins/presets/fmnist-default.js';

export const STUDY_NAMES = ['mechanisms', 'momentum', 'shuffle-bn', 'queue-size'] as const;
export type StudyName = (typeof STUDY_NAMES)[number];

/**
 * The recipe every cell starts from: the registered preset of the default Fashion-MNIST job
 * (plugins/presets/fmnist-default.ts: MLP head, InfoNCE τ 0.1, queue K 4096, m 0.99, 8-group Shuffle BN,
 * crop + flip + brightness/contrast jitter, SGD lr 0.06 at batch 256, wd 5e-4), with one change: the learning
 * rate and the key encoder's momentum are constant. A cell trains for a wall-clock budget, so its number of
 * steps is not known in advance and a schedule over "the run" has no end to decay towards; a constant rate
 * treats fast and slow cells alike.
 */
export const ABLATION_BASE_CONFIG: MocoConfigInput = {
  ...mergeOverPreset(fmnistDefault.config, { optimizer: { schedule: 'constant' }, update: { schedule: 'constant' } }),
  preset: fmnistDefault.name,
} as MocoConfigInput;

/** The batch size of every cell unless the study varies it (the paper's 256). */
export const ABLATION_BATCH_SIZE = 256;

/** One point of a study's grid. */
export interface StudyCell {
  /** Unique within the study, file- and CSV-safe, e.g. 'moco-k4096'. */
  readonly id: string;
  /** For tables and legends, e.g. 'MoCo, K 4096'. */
  readonly label: string;
  /** The plot series the cell belongs to, e.g. 'MoCo', 'memory bank', 'end-to-end'. */
  readonly series: string;
  /** The value the study varies (the plot's x): K, m, or a normalization id. */
  readonly x: number | string;
  /** K, the negatives each query is scored against. */
  readonly negatives: number;
  /** Images per step. */
  readonly batchSize: number;
  /** Over the base recipe (merged like a preset: a family section with another id replaces the base's). */
  readonly overrides: MocoConfigInput;
  /** The overrides in one short line, for the report's table. */
  readonly summary: string;
}

/** How a study's x axis is drawn. */
export type StudyAxis = { readonly title: string; readonly scale: 'log' | 'ordinal' };

/** What the paper reports for the question a study asks, quoted in its report. */
export interface StudyDefinition {
  readonly name: StudyName;
  readonly title: string;
  /** The question, one sentence. */
  readonly question: string;
  /** The paper's finding, with its numbers. */
  readonly paper: string;
  readonly axis: StudyAxis;
  /** Record kNN on a small subset during training (pretext accuracy and kNN over time). */
  readonly timeline: boolean;
  readonly cells: readonly StudyCell[];
}

const LR = ABLATION_BASE_CONFIG.optimizer!.learningRate!;

function mocoCell(k: number, series = 'MoCo'): StudyCell {
  return {
    id: `moco-k${k}`,
    label: `MoCo, K ${k}`,
    series,
    x: k,
    negatives: k,
    batchSize: ABLATION_BATCH_SIZE,
    overrides: { dictionary: { id: 'queue', size: k } },
    summary: `queue K ${k}, m 0.99, Shuffle BN`,
  };
}

/** End-to-end (Fig. 2a): K = batch − 1; the learning rate scales linearly with the batch, as in the paper. */
function endToEndCell(batch: number): StudyCell {
  const lr = (LR * batch) / ABLATION_BATCH_SIZE;
  return {
    id: `end-to-end-b${batch}`,
    label: `end-to-end, batch ${batch}`,
    series: 'end-to-end',
    x: batch - 1,
    negatives: batch - 1,
    batchSize: batch,
    overrides: {
      preset: 'end-to-end',
      dictionary: { id: 'in-batch' },
      update: { id: 'shared' },
      normalization: { id: 'split-bn', groups: 8 },
      optimizer: { learningRate: lr },
    },
    summary: `preset end-to-end: in-batch K ${batch - 1}, shared encoder, split BN, batch ${batch}, lr ${+lr.toFixed(4)}`,
  };
}

/** Memory bank (Fig. 2b): one slot per image, K sampled negatives, slot momentum 0.5. */
function memoryBankCell(k: number): StudyCell {
  return {
    id: `memory-bank-k${k}`,
    label: `memory bank, K ${k}`,
    series: 'memory bank',
    x: k,
    negatives: k,
    batchSize: ABLATION_BATCH_SIZE,
    overrides: {
      preset: 'memory-bank',
      dictionary: { id: 'memory-bank', negatives: k, bankMomentum: 0.5 },
      normalization: { id: 'split-bn', groups: 8 },
    },
    summary: `preset memory-bank: K ${k} sampled, μ 0.5, split BN`,
  };
}

function momentumCell(m: number): StudyCell {
  return {
    id: `m${m}`,
    label: `m ${m}`,
    series: 'MoCo',
    x: m,
    negatives: 4096,
    batchSize: ABLATION_BATCH_SIZE,
    overrides: { update: { id: 'momentum', keyEncoderMomentum: m } },
    summary: m === 0 ? 'm 0 (key encoder = a copy of the query encoder)' : `m ${m}`,
  };
}

function normalizationCell(id: 'shuffle-bn' | 'batchnorm' | 'split-bn'): StudyCell {
  const overrides: Record<typeof id, { config: MocoConfigInput; summary: string; label: string }> = {
    'shuffle-bn': { config: { normalization: { id: 'shuffle-bn', groups: 8 } }, summary: 'BN per group of 32, key batch shuffled across groups', label: 'Shuffle BN' },
    batchnorm: { config: { normalization: { id: 'batchnorm' } }, summary: 'plain BN over the whole batch, keys in query order', label: 'plain BN' },
    'split-bn': { config: { normalization: { id: 'split-bn', groups: 8 } }, summary: 'BN per group of 32, no shuffle: the paper\'s 8-GPU BN without Shuffle BN', label: 'split BN, no shuffle' },
  };
  const o = overrides[id];
  return { id, label: o.label, series: o.label, x: id, negatives: 4096, batchSize: ABLATION_BATCH_SIZE, overrides: o.config, summary: o.summary };
}

const STUDIES: Record<StudyName, StudyDefinition> = {
  mechanisms: {
    name: 'mechanisms',
    title: 'Three contrastive mechanisms against the number of negatives K (MoCo Fig. 3)',
    question: 'How does kNN accuracy grow with K for end-to-end (K = batch − 1), a memory bank and MoCo\'s queue, at equal wall-clock cost?',
    paper:
      'He et al. 2020, Fig. 3 (ImageNet linear probe, R50, 200 epochs): all three mechanisms benefit from a larger K; end-to-end ' +
      'tracks MoCo at small K but is capped by the batch it can fit (K ≤ 1023); the memory bank stays below MoCo at every K ' +
      '(58.0 vs 60.6 at K 65536, "2.6% worse"), because its keys come from encoders of many past epochs.',
    axis: { title: 'negatives K (log scale)', scale: 'log' },
    timeline: false,
    cells: [64, 128, 256].map(endToEndCell).concat([256, 1024, 4096].map(memoryBankCell), [256, 1024, 4096].map((k) => mocoCell(k))),
  },
  momentum: {
    name: 'momentum',
    title: 'Momentum m of the key encoder (MoCo §4.1, the momentum table)',
    question: 'Does a slowly moving key encoder matter, and does m = 0 (the key encoder a copy of the query encoder) fail?',
    paper:
      'He et al. 2020, §4.1 (ImageNet linear probe, R50, K 4096): m 0 fails ("the training loss oscillates and fails to ' +
      'converge"); m 0.9 55.2, 0.99 57.8, 0.999 59.0, 0.9999 58.9. The project\'s PyTorch reference on Fashion-MNIST (3 minutes) ' +
      'agrees: m 0 reaches kNN 75.4 with the loss stuck near 8.3, below the random-init encoder (76.8); m 0.99 reaches 79.7.',
    axis: { title: 'key-encoder momentum m', scale: 'ordinal' },
    timeline: false,
    cells: [0, 0.9, 0.99, 0.999].map(momentumCell),
  },
  'shuffle-bn': {
    name: 'shuffle-bn',
    title: 'Shuffle BN against BatchNorm without shuffling (MoCo §3.3, App. A.9)',
    question: 'Without Shuffle BN, does the pretext task get easier (a query finds its key through shared batch statistics) while kNN accuracy lags?',
    paper:
      'He et al. 2020, §3.3 and App. A.9: without Shuffle BN (BN per GPU, the key batch in query order) the pretext accuracy ' +
      'quickly exceeds 99.9% and kNN validation accuracy drops ("cheating"); with Shuffle BN both behave. The MoCo CIFAR demo ' +
      'notes that dropping Shuffle BN costs about 4% kNN after 800 epochs. The project\'s PyTorch reference on Fashion-MNIST ' +
      '(3 minutes): plain BN gives pretext accuracy 0.129 vs 0.096 with Shuffle BN, at the same kNN (79.7).',
    axis: { title: 'normalization', scale: 'ordinal' },
    timeline: true,
    cells: [normalizationCell('shuffle-bn'), normalizationCell('batchnorm'), normalizationCell('split-bn')],
  },
  'queue-size': {
    name: 'queue-size',
    title: 'Queue size K (the MoCo curve of Fig. 3)',
    question: 'Does a larger queue of negatives help, at equal wall-clock cost?',
    paper:
      'He et al. 2020, Fig. 3: MoCo\'s accuracy rises with K up to the largest queue tried (65536, 60.6 linear on ImageNet); ' +
      'the MoCo CIFAR demo notes that the queue "saturated at --moco-k 4096" on a 50k-image data set.',
    axis: { title: 'queue size K (log scale)', scale: 'log' },
    timeline: false,
    cells: [256, 1024, 4096, 16384].map((k) => mocoCell(k)),
  },
};

/** An error for a study name that does not exist; its message lists the studies. */
export class UnknownStudyError extends Error {
  constructor(name: unknown) {
    super(`unknown study '${String(name)}'; the studies are: ${STUDY_NAMES.join(', ')}`);
    this.name = 'UnknownStudyError';
  }
}

export function isStudyName(name: unknown): name is StudyName {
  return typeof name === 'string' && (STUDY_NAMES as readonly string[]).includes(name);
}

/** A study's definition; an UnknownStudyError listing the studies for any other name. */
export function getStudy(name: string): StudyDefinition {
  if (!isStudyName(name)) throw new UnknownStudyError(name);
  return STUDIES[name];
}

/**
 * The study's cells, or the named subset of them (in the study's order). An unknown cell id is an error that
 * lists the study's cells.
 */
export function selectCells(study: StudyDefinition, ids?: readonly string[]): StudyCell[] {
  if (!ids || ids.length === 0) return [...study.cells];
  const known = new Set(study.cells.map((c) => c.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new RangeError(`study ${study.name}: unknown cell ${unknown.map((u) => `'${u}'`).join(', ')}; its cells are: ${[...known].join(', ')}`);
  }
  return study.cells.filter((c) => ids.includes(c.id));
}

/** A cell's full createMoco config: the base recipe with the cell's overrides merged over it, and the seed. */
export function cellConfig(cell: StudyCell, seed: number, base: MocoConfigInput = ABLATION_BASE_CONFIG): MocoConfigInput {
  const merged = mergeOverPreset(base as Record<string, unknown>, cell.overrides as Record<string, unknown>);
  return { ...merged, seed } as MocoConfigInput;
}
