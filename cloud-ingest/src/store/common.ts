import { CodedError } from '@safe-community/runtime';
import type { SqlRunner } from '../migrate.js';
import type { DeadLetterRecord } from './types.js';
import { isDataError } from './write.js';

/**
 * Wraps a driver error with a stable code: ERR_STORE_REJECTED when the data is at fault, else
 * ERR_STORE_UNAVAILABLE (connection lost, server down, timeout) — the caller retries those.
 */
export function storeError(err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  const msg = (err as Error)?.message ?? String(err);
  if (isDataError(err)) return new CodedError('ERR_STORE_REJECTED', `database refused the data: ${msg}`, { cause: err });
  return new CodedError('ERR_STORE_UNAVAILABLE', `database write failed: ${msg}`, { cause: err });
}

export async function insertDeadLetters(db: SqlRunner, records: readonly DeadLetterRecord[]): Promise<void> {
  await db.query(
    `INSERT INTO dead_letters (source, edge, seq, code, reason, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])`,
    [records.map((r) => r.source), records.map((r) => r.edge), records.map((r) => r.seq), records.map((r) => r.code),
      records.map((r) => r.reason), records.map((r) => r.payload)],
  );
}
