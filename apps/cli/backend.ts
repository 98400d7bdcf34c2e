import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendPreference } from '../../src/kernels/select-backend.js';

export interface BackendUsed {
  name: string;
  package: string;
  reason: string;
}

/** Pick and activate the backend (tfjs-node-gpu → tfjs-node → wasm → cpu for 'auto'), and say which runs. */
export async function useBackend(prefer: 'auto' | 'cpu' | 'wasm' | 'tensorflow', needsTraining: boolean, log: (line: string) => void): Promise<BackendUsed> {
  // No tfjs console chatter (the "install tfjs-node" banner, deprecation notes) in the CLI's output.
  tf.env().set('PROD', true);
  const choice = await selectBackend({ prefer: prefer as BackendPreference, needsTraining });
  const used = { name: choice.name, package: choice.package, reason: choice.reason };
  if (tf.getBackend() !== choice.name) throw new Error(`backend ${choice.name} was selected but ${tf.getBackend()} is active`);
  log(`backend: ${used.name} (${used.package}): ${used.reason}`);
  return used;
}
