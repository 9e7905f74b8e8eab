/**
 * The acked-seq checkpoint: the highest seq the cloud has confirmed. It is written to a temporary file,
 * synced, renamed over the old one and the folder synced, so a crash leaves either the old or the new
 * value, never a torn one. Segments are deleted only after the checkpoint covering them is durable; that
 * ordering is what keeps the sequence monotonic across restarts even when every segment has been deleted.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '@safe-community/runtime';

const FILE = 'acked';

export async function readCheckpoint(dir: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new CodedError('ERR_OUTBOX_CHECKPOINT', `cannot read the acked checkpoint in ${dir}`, { cause: err });
  }
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CodedError('ERR_OUTBOX_CHECKPOINT', `acked checkpoint in ${dir} holds "${text.trim()}", not a seq`);
  }
  return value;
}

export async function writeCheckpoint(dir: string, seq: number): Promise<void> {
  const tmp = join(dir, `${FILE}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${seq}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, FILE));
  await syncDir(dir);
}

/** Makes file creations, renames and deletions in `dir` durable (POSIX needs an fsync on the folder). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
