/**
 * What a strategy can do or needs, declared by its factory (`defineStrategy({ capabilities })`) so that
 * other strategies and the trainer can ask for it: compatibility is decided by capability, never by
 * another plugin's id, so a third-party strategy is judged exactly as a built-in one. Every field has a
 * documented default; a factory declares only what differs.
 *
 * ```ts
 * defineStrategy({ family: 'dictionary', id: 'bank', capabilities: { providesPositives: true, needsIndices: true }, ... });
 * // another plugin's check:
 * check: (choice) => (choice.capabilities.dictionary.providesPositives ? 'needs a key encoder' : undefined);
 * ```
 */
export interface DictionaryCapabilities {
  /**
   * The dictionary supplies each query's positive key itself (`positives`), so no key encoder runs (the
   * memory bank of Wu et al. 2018). Default false.
   */
  readonly providesPositives: boolean;
  /** The dictionary needs each image's data-set index (`{xs, index}` data), e.g. to address its slots. Default false. */
  readonly needsIndices: boolean;
  /**
   * The negatives are the other keys of the same batch (end-to-end), so splitting a batch into micro-batches
   * would shrink K; the trainer then refuses `microBatch`. Default false.
   */
  readonly negativesFromBatch: boolean;
}

/** How the keys are encoded (MoCo Sec. 3.2, Fig. 2). */
export interface UpdateCapabilities {
  /**
   * 'key-encoder' (default): a separate key encoder, outside the gradient scope, moved by `apply` after every
   * optimizer step. 'query-encoder': the query encoder encodes the keys too, with gradient (end-to-end), and
   * `apply` is never called.
   */
  readonly keySource: 'key-encoder' | 'query-encoder';
}

export interface NormalizationCapabilities {
  /**
   * `encodeKeys` shuffles the key batch around the key encoder (Shuffle BN, MoCo Sec. 3.3). With data-parallel
   * workers the trainer then shuffles across the whole batch itself. Default false.
   */
  readonly shufflesKeys: boolean;
  /** The variant works on BatchNormalization layers; a backbone without one is refused at config load. Default false. */
  readonly needsBatchNorm: boolean;
}

export interface LossCapabilities {
  /**
   * The trainer also swaps the views (view 2 as query, view 1 as key) and adds the two losses, as the MoCo
   * CIFAR demo's `--symmetric` and MoCo v3 do. Default false.
   */
  readonly symmetric: boolean;
}

/** Augmentations declare nothing yet; the family keeps a place so every family is alike. */
export type AugmentationCapabilities = Record<string, never>;

export interface CapabilitiesOf {
  loss: LossCapabilities;
  dictionary: DictionaryCapabilities;
  update: UpdateCapabilities;
  normalization: NormalizationCapabilities;
  augmentation: AugmentationCapabilities;
}

/** The capabilities of a run's five strategies, as checks and the trainer read them. */
export type RunCapabilities = { readonly [F in keyof CapabilitiesOf]: Readonly<CapabilitiesOf[F]> };

/** What a factory that declares nothing gets. */
export const DEFAULT_CAPABILITIES: RunCapabilities = {
  loss: { symmetric: false },
  dictionary: { providesPositives: false, needsIndices: false, negativesFromBatch: false },
  update: { keySource: 'key-encoder' },
  normalization: { shufflesKeys: false, needsBatchNorm: false },
  augmentation: {},
};
