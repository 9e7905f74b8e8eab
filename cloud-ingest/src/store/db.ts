/**
 * The database port of the cloud: `query<R>(sql, params)` answering `{ rows: R[], rowCount }`, and `tx(fn)`
 * for one transaction, over either backend (a pg Pool: a dedicated connection per transaction with
 * BEGIN/COMMIT; PGlite: its own `transaction()`, one at a time). The store's envelope writes, the alarm
 * lifecycle, the cloud rules and the care module all take this one shape. Rows are typed by the caller,
 * with the table interfaces of `rows.ts` where a whole row is read; a driver's rows enter the typed world
 * at one place here (`fromDriver`).
 */
import { CodedError } from '@safe-community/runtime';
import type { SqlRunner } from '../migrate.js';
import { withPoolTransaction } from './pool-tx.js';

/** A row before the caller names its columns. */
export type Row = Record<string, unknown>;

export interface QueryResult<R> {
  rows: R[];
  /** Rows the statement touched (inserted, updated, deleted or returned); null when the driver did not say. */
  rowCount: number | null;
}

/** Runs statements: the whole database, or one transaction. */
export interface Queryable {
  query<R = Row>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/** Statements inside one transaction. */
export type Tx = Queryable;

export interface Db extends Queryable {
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

/** What pg (`rowCount`) and PGlite (`affectedRows`) answer, before it is made one shape. */
interface DriverResult {
  rows: unknown[];
  rowCount?: number | null;
  affectedRows?: number;
}

/**
 * The one place driver rows become typed rows. The column names and types are the caller's declaration
 * (the SQL it wrote decides them); nothing here can check them.
 */
function fromDriver<R>(res: DriverResult): QueryResult<R> {
  return { rows: res.rows as R[], rowCount: res.rowCount ?? res.affectedRows ?? null };
}

/** A driver's connection, client or transaction as a Queryable. */
export function queryable(runner: SqlRunner): Queryable {
  return { query: async <R = Row>(sql: string, params?: unknown[]) => fromDriver<R>(await runner.query(sql, params)) };
}

interface PoolLike extends SqlRunner {
  connect(): Promise<SqlRunner & { release(err?: Error): void }>;
}
interface PgliteLike extends SqlRunner {
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

/** Which transactions a runner offers, decided once for it. */
type TxRunner = { kind: 'pglite'; r: PgliteLike } | { kind: 'pool'; r: PoolLike } | { kind: 'none' };

function txRunnerOf(r: SqlRunner): TxRunner {
  if ('transaction' in r && typeof r.transaction === 'function') return { kind: 'pglite', r: r as PgliteLike };
  if ('connect' in r && typeof r.connect === 'function') return { kind: 'pool', r: r as PoolLike };
  return { kind: 'none' };
}

/** The Db over the runner the store hands out (`Store.runner()`), a pg Pool or a PGlite instance. */
export class RunnerDb implements Db {
  constructor(private readonly source: () => SqlRunner) {}

  async query<R = Row>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    return fromDriver<R>(await this.source().query(sql, params));
  }

  async tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const t = txRunnerOf(this.source());
    switch (t.kind) {
      case 'pglite': return t.r.transaction((raw) => fn(queryable(raw)));
      case 'pool': return withPoolTransaction(() => t.r.connect(), (client) => fn(queryable(client)));
      case 'none': throw new CodedError('ERR_DB_RUNNER', 'the database runner supports no transactions');
    }
  }
}

/** A PostgreSQL unique violation: a concurrent writer created the same active alarm first. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '23505';
