// An encoder in the TensorFlow.js layers format, on disk, without tfjs-node's file:// handler:
//   <dir>/model.json   { format: 'layers-model', modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights }] }
//   <dir>/weights.bin  the weights, float32/int32 little-endian, in manifest order
// exactly what `model.save('file://dir')` writes, so tfjs-node, tf.loadLayersModel over http, and the Python
// tensorflowjs converter all read it. Both files are written atomically (temporary file + rename).
//
// Custom layers: the model is rebuilt from its topology, so every layer class in it must be registered with
// tf.serialization.registerClass before loading. The encoder `exportEncoder()` returns is the user's own
// backbone (trained weights copied in), so it needs exactly the user's layers: no tfjs-moco layer is in it
// (GroupBatchNormalization only exists inside the training copies of the encoders).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CheckpointError } from './checkpoint-format.js';
import { joinPath, resolveFs, writeFileAtomic, type CheckpointFs } from './checkpoint-fs.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface ModelFilesOptions {
  fs?: Partial<CheckpointFs>;
}

/** Concatenate tf.io WeightData (one buffer or several) into one. */
function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
}

/** Write `model` as `<dir>/model.json` + `<dir>/weights.bin` (the tfjs layers format). Resolves with the artifact info. */
export async function saveModel(model: tfl.LayersModel, dir: string, options: ModelFilesOptions = {}): Promise<tf.io.ModelArtifactsInfo> {
  const fs = await resolveFs(options.fs);
  const result = await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = joinWeightData(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      await fs.mkdir(dir);
      // Weights first: a crash between the two renames leaves the old model.json with weights of the same
      // architecture (only an architecture change could mismatch, and that fails loudly on load).
      await writeFileAtomic(fs, dir, WEIGHTS_BIN, weights);
      await writeFileAtomic(fs, dir, MODEL_JSON, JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return result.modelArtifactsInfo;
}

/** The artifacts of a saved model folder (model.json and its weight files), e.g. for tf.io.fromMemory. */
export async function readModelArtifacts(dir: string, options: ModelFilesOptions = {}): Promise<tf.io.ModelArtifacts> {
  const fs = await resolveFs(options.fs);
  const jsonPath = joinPath(dir, MODEL_JSON);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(await fs.readFile(jsonPath))) as tf.io.ModelJSON;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CheckpointError(jsonPath, 'no such file: not a saved model folder', { cause: err });
    throw new CheckpointError(jsonPath, `cannot read the model (${(err as Error).message})`, { cause: err });
  }
  if (!modelJson || typeof modelJson !== 'object' || modelJson.modelTopology == null) {
    throw new CheckpointError(jsonPath, 'no modelTopology: not a tfjs layers model.json');
  }
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const parts: Uint8Array[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const file = joinPath(dir, p);
        try {
          parts.push(await fs.readFile(file));
        } catch (err) {
          throw new CheckpointError(file, `cannot read the weights named by ${MODEL_JSON} (${(err as Error).message})`, { cause: err });
        }
      }
    }
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    // Check the size before tfjs decodes: a truncated file otherwise fails as "the tensor should have N values
    // but has M", naming no file. Quantized weights (other sizes per value) are left to tfjs.
    const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
    if (specs.every((w) => !w.quantization && bytesPer[w.dtype] !== undefined)) {
      const needed = specs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPer[w.dtype], 0);
      if (needed !== total) {
        const files = manifest.flatMap((g) => g.paths).map((p) => joinPath(dir, p)).join(', ');
        throw new CheckpointError(files, `holds ${total} bytes of weights, ${MODEL_JSON}'s weightsManifest needs ${needed}: truncated or damaged (save the model again)`);
      }
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.byteLength;
    }
    return [specs, all.buffer];
  });
}

/** Load a model saved by `saveModel` (or by tfjs-node's `file://` handler) with tf.loadLayersModel. */
export async function loadModel(dir: string, options: ModelFilesOptions = {}): Promise<tfl.LayersModel> {
  const artifacts = await readModelArtifacts(dir, options);
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}
