/**
 * The outbox's epoch: a random id written once, when the folder is new. The sequence is only unique
 * within it: a wiped or replaced outbox folder restarts at seq 1 under a new epoch, and the cloud, which
 * keeps the epoch next to its per-edge cursor, stores the new records after the old ones instead of
 * taking them for resends of records it already has.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError, writeAtomic } from '@safe-community/runtime';

const FILE = 'epoch';
const EPOCH_RE = /^[A-Za-z0-9-]{1,64}$/;

export async function readOrMakeEpoch(dir: string): Promise<string> {
  try {
    const text = (await readFile(join(dir, FILE), 'utf8')).trim();
    if (!EPOCH_RE.test(text)) throw new CodedError('ERR_OUTBOX_EPOCH', `outbox epoch in ${dir} holds "${text.slice(0, 80)}", not an epoch id`);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const epoch = randomUUID();
  await writeAtomic(join(dir, FILE), `${epoch}\n`);
  return epoch;
}
