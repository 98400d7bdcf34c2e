// Checkpoints (resume a run as if never stopped) and model files (export an encoder in the tfjs format).
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, MANIFEST_FILE, CheckpointError, checkpointManifestSchema, type CheckpointManifest } from './checkpoint-format.js';
export { defaultCheckpointFs, type CheckpointFs } from './checkpoint-fs.js';
export {
  loadCheckpointInto,
  readCheckpoint,
  readCheckpointManifest,
  writeCheckpoint,
  type CheckpointInfo,
  type LoadedCheckpoint,
  type SaveCheckpointOptions,
} from './checkpoint-io.js';
export { MODEL_JSON, WEIGHTS_BIN, loadModel, readModelArtifacts, saveModel, type ModelFilesOptions } from './model-files.js';
export { epochDataset, resumableImageDataset, type ResumableImageDatasetOptions } from './epoch-dataset.js';
export { fingerprintDifferences, fingerprintOf, modelTopology, type CheckpointFingerprint, type FingerprintExpectation } from './checkpoint-fingerprint.js';
