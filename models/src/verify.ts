/**
 * sha256 checks before anything is loaded. A model file is read once, hashed, and the same bytes are handed
 * to the runtime, so what runs is exactly what was checked (no window between check and load).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '@safe-community/runtime';
import type { ModelManifest } from './manifest.js';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Reads `file` and returns its bytes if the sha256 matches; ERR_MODEL_MISSING / ERR_MODEL_INVALID otherwise. */
export async function readVerified(path: string, expectedSha256: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CodedError('ERR_MODEL_MISSING', `model file ${path} cannot be read (run models/scripts/fetch.ts or set MODELS_DIR)`, { cause: err });
  }
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256) {
    throw new CodedError('ERR_MODEL_INVALID',
      `model file ${path} has sha256 ${actual}, expected ${expectedSha256} (${bytes.length} bytes); refusing to load it`);
  }
  return bytes;
}

export interface VerifiedModel {
  manifest: ModelManifest;
  path: string;
  bytes: Buffer;
  /** Label lines (no trailing empty line), when the manifest names a labels file. */
  labels: string[];
}

/** Reads and checks a model's weights and labels from `modelsDir`. */
export async function loadVerifiedModel(manifest: ModelManifest, modelsDir: string): Promise<VerifiedModel> {
  const path = join(modelsDir, manifest.file);
  const bytes = await readVerified(path, manifest.sha256);
  let labels: string[] = [];
  if (manifest.labels) {
    const raw = (await readVerified(join(modelsDir, manifest.labels.file), manifest.labels.sha256)).toString('utf8');
    labels = raw.split('\n');
    if (labels[labels.length - 1] === '') labels.pop();
  }
  return { manifest, path, bytes, labels };
}
