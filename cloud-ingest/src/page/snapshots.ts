/**
 * Reads a stored snapshot by the reference an edge gave it (`snapshot:<camera>/<file>.jpg`, see the edge's
 * FileSnapshotStore). The reference comes from stored data, so it is treated as untrusted: only JPEG files
 * strictly inside the alarm's own site folder (`<snapshotsDir>/<site>/`) are read, so an alarm of one site
 * can never name another site's picture (issue 12, item 5).
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { CodedError } from '@safe-community/runtime';

const REF_RE = /^(?:snapshot:)?([A-Za-z0-9][A-Za-z0-9._-]*\/)*[A-Za-z0-9][A-Za-z0-9._-]*\.jpe?g$/;

const SITE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function snapshotPath(root: string, site: string, ref: string): string {
  const rel = ref.startsWith('snapshot:') ? ref.slice('snapshot:'.length) : ref;
  if (!SITE_RE.test(site)) throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'the snapshot reference is not one this service can serve');
  const base = resolve(root, site);
  const full = resolve(base, rel);
  if (!REF_RE.test(ref) || rel.split('/').some((p) => p === '..' || p === '.') || !full.startsWith(base + sep)) {
    throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'the snapshot reference is not one this service can serve');
  }
  return full;
}

export async function readSnapshot(root: string | undefined, site: string, ref: string): Promise<Buffer> {
  if (!root) throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'no snapshot folder is configured');
  const path = snapshotPath(root, site, ref);
  try {
    return await readFile(path);
  } catch (err) {
    throw new CodedError('ERR_SNAPSHOT_NOT_FOUND', 'the snapshot file is not there (expired or not uploaded)', { cause: err });
  }
}
