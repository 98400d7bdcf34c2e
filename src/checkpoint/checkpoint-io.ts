// Writing and reading checkpoint folders, atomically.
//
// Layout: <dir>/manifest.json and <dir>/data-<nonce>.bin, the data file named in the manifest. A save writes
// a NEW data file (flushed), then the new manifest to a temporary file (flushed) renamed over manifest.json
// (atomic), and only then removes the previous data file and any leftovers. A crash at any moment therefore
// leaves manifest.json pointing at a complete data file: the previous checkpoint or the new one.
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpointable } from '../training/training-state.js';
import { CHECKPOINT_FORMAT, CheckpointError, MANIFEST_FILE, checkpointManifestSchema, type CheckpointManifest } from './checkpoint-format.js';
import { joinPath, nonce, resolveFs, writeFileAtomic, type CheckpointFs } from './checkpoint-fs.js';
import { captureState, restoreState } from './checkpoint-state.js';

export interface SaveCheckpointOptions {
  /** Plain JSON stored in the manifest's `metadata` (e.g. how to rebuild the data set). */
  metadata?: Record<string, unknown>;
  /** Replace file operations (tests simulate crashes this way). */
  fs?: Partial<CheckpointFs>;
  /**
   * The training data, for the checkpoint's fingerprint: e.g. `{ identity: 'idx:/data/fmnist', size: 60000 }`
   * (the size defaults to the fit plan's). A resume that expects other data is refused.
   */
  data?: { identity?: string; size?: number };
}

export interface CheckpointInfo {
  /** The checkpoint folder. */
  path: string;
  epoch: number;
  stepInEpoch: number;
  step: number;
  /** Size of the tensor data file. */
  bytes: number;
}

/** A checkpoint read from disk: the manifest and its tensors (the caller owns and disposes them). */
export interface LoadedCheckpoint {
  path: string;
  manifest: CheckpointManifest;
  tensors: tf.NamedTensorMap;
}

const isDataFile = (name: string) => /^data-[A-Za-z0-9]+\.bin$/.test(name);
const isTemporary = (name: string) => name.startsWith(`${MANIFEST_FILE}.tmp-`);

/** Save the run's complete state into `dir` (created if needed), replacing the checkpoint there atomically. */
export async function writeCheckpoint(run: Checkpointable, dir: string, options: SaveCheckpointOptions = {}): Promise<CheckpointInfo> {
  const fs = await resolveFs(options.fs);
  const captured = await captureState(run, options.metadata, options.data);
  const encoded = await tf.io.encodeWeights(captured.tensors);
  const data = new Uint8Array(encoded.data);
  const dataFile = `data-${nonce()}.bin`;
  const manifest: CheckpointManifest = {
    ...captured.manifest,
    tensors: { file: dataFile, bytes: data.byteLength, sha256: await fs.sha256(data), specs: encoded.specs as CheckpointManifest['tensors']['specs'] },
  };
  await fs.mkdir(dir);
  const dataPath = joinPath(dir, dataFile);
  try {
    await fs.writeFile(dataPath, data);
    await writeFileAtomic(fs, dir, MANIFEST_FILE, JSON.stringify(manifest, null, 1));
  } catch (err) {
    // The previous manifest still points at the previous data file; drop the unreferenced new one.
    await fs.remove(dataPath).catch(() => undefined);
    throw err;
  }
  // Leftovers: the previous data file, and anything a crashed save left behind.
  for (const name of await fs.readdir(dir)) {
    if (name !== dataFile && (isDataFile(name) || isTemporary(name))) await fs.remove(joinPath(dir, name)).catch(() => undefined);
  }
  const { epoch, stepInEpoch, step } = manifest.position;
  return { path: dir, epoch, stepInEpoch, step, bytes: data.byteLength };
}

/** Read and validate a checkpoint's manifest only (cheap: no tensor data). */
export async function readCheckpointManifest(dir: string, options: { fs?: Partial<CheckpointFs> } = {}): Promise<CheckpointManifest> {
  const fs = await resolveFs(options.fs);
  const path = joinPath(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = new TextDecoder().decode(await fs.readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CheckpointError(dir, `no checkpoint here (${MANIFEST_FILE} not found)`, { cause: err });
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(path, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if ((json as { format?: unknown } | null)?.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(path, `not a tfjs-moco checkpoint manifest (format is not '${CHECKPOINT_FORMAT}')`);
  }
  const parsed = checkpointManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(path, `invalid manifest: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Read a whole checkpoint: manifest, data file (size and SHA-256 checked) and decoded tensors. */
export async function readCheckpoint(dir: string, options: { fs?: Partial<CheckpointFs> } = {}): Promise<LoadedCheckpoint> {
  const fs = await resolveFs(options.fs);
  const manifest = await readCheckpointManifest(dir, options);
  const dataPath = joinPath(dir, manifest.tensors.file);
  let data: Uint8Array;
  try {
    data = await fs.readFile(dataPath);
  } catch (err) {
    throw new CheckpointError(dataPath, `cannot read the checkpoint's data file (${(err as Error).message})`, { cause: err });
  }
  if (data.byteLength !== manifest.tensors.bytes) {
    throw new CheckpointError(dataPath, `holds ${data.byteLength} bytes, the manifest says ${manifest.tensors.bytes}: damaged or incomplete`);
  }
  if ((await fs.sha256(data)) !== manifest.tensors.sha256) {
    throw new CheckpointError(dataPath, 'SHA-256 does not match the manifest: the file is damaged');
  }
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(buffer, manifest.tensors.specs as tf.io.WeightsManifestEntry[]);
  return { path: dir, manifest, tensors };
}

/** Read a checkpoint and put its state into the run (whose config must match). */
export async function loadCheckpointInto(run: Checkpointable, source: string | LoadedCheckpoint, options: { fs?: Partial<CheckpointFs> } = {}): Promise<CheckpointManifest> {
  const loaded = typeof source === 'string' ? await readCheckpoint(source, options) : source;
  await restoreState(run, loaded.manifest, loaded.tensors, loaded.path);
  return loaded.manifest;
}
