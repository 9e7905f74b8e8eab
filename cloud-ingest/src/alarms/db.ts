/**
 * Transactions over either backend the store hands out through `runner()`: a pg Pool (a dedicated
 * connection per transaction, BEGIN/COMMIT) or a PGlite instance (its own `transaction()`, which runs one
 * transaction at a time). Row locks (`SELECT … FOR UPDATE`) inside a transaction are what make two staff
 * acting on one alarm at once resolve to one winner.
 */
import { CodedError } from '@safe-community/runtime';
import type { SqlRunner } from '../migrate.js';
import { withPoolTransaction } from '../store/pool-tx.js';

export interface Tx {
  query<R = any>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

interface PoolLike extends SqlRunner {
  connect(): Promise<SqlRunner & { release(err?: Error): void }>;
}
interface PgliteLike extends SqlRunner {
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

const isPool = (r: SqlRunner): r is PoolLike => typeof (r as Partial<PoolLike>).connect === 'function';
const isPglite = (r: SqlRunner): r is PgliteLike => typeof (r as Partial<PgliteLike>).transaction === 'function';

export class Db {
  constructor(private readonly runner: () => SqlRunner) {}

  query<R = any>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> {
    return this.runner().query(sql, params) as Promise<{ rows: R[] }>;
  }

  async tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const r = this.runner();
    if (isPglite(r)) return r.transaction((t) => fn(t as Tx));
    if (!isPool(r)) throw new CodedError('ERR_DB_RUNNER', 'the database runner supports no transactions');
    return withPoolTransaction(() => r.connect(), (client) => fn(client as Tx));
  }
}

/** What the alarm and care code accept as a database: a Db, the store (its runner), or a raw pg Pool / PGlite. */
export type DbSource = Db | { runner(): SqlRunner } | SqlRunner;

export function asDb(src: DbSource): Db {
  if (src instanceof Db) return src;
  return new Db('runner' in src && typeof src.runner === 'function' ? () => (src as { runner(): SqlRunner }).runner() : () => src as SqlRunner);
}

/** A PostgreSQL unique violation: a concurrent writer created the same active alarm first. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '23505';
