/**
 * Reads a stored snapshot by the reference an edge gave it (`snapshot:<camera>/<file>.jpg`, see the edge's
 * FileSnapshotStore). The reference comes from stored data, so it is treated as untrusted: only JPEG files
 * strictly inside the snapshot folder are read.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { CodedError } from '@safe-community/runtime';

const REF_RE = /^(?:snapshot:)?([A-Za-z0-9][A-Za-z0-9._-]*\/)*[A-Za-z0-9][A-Za-z0-9._-]*\.jpe?g$/;

export function snapshotPath(root: string, ref: string): string {
  const rel = ref.startsWith('snapshot:') ? ref.slice('snapshot:'.length) : ref;
  const base = resolve(root);
  const full = resolve(base, rel);
  if (!REF_RE.test(ref) || rel.split('/').some((p) => p === '..' || p === '.') || !full.startsWith(base + sep)) {
    throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'the snapshot reference is not one this service can serve');
  }
  return full;
}

export async function readSnapshot(root: string | undefined, ref: string): Promise<Buffer> {
  if (!root) throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'no snapshot folder is configured');
  const path = snapshotPath(root, ref);
  try {
    return await readFile(path);
  } catch (err) {
    throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'the snapshot file is not there (expired or not uploaded)', { cause: err });
  }
}
