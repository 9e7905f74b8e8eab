/**
 * Store on PostgreSQL (or TimescaleDB) through a pg Pool. Multi-row `unnest` inserts, and COPY for
 * large telemetry batches.
 */
import pg from 'pg';
import { CodedError, createLogger, type Logger } from '@safe-community/runtime';
import { migrate, type SqlRunner } from '../migrate.js';
import { copyTelemetry } from './copy.js';
import { isDataError, writeBatchTx, type Tx } from './write.js';
import type { DeadLetterRecord, IngestBatch, Store, StoreHealth, WriteResult } from './types.js';
import { storeError, insertDeadLetters } from './common.js';

export interface PgStoreOptions {
  url: string;
  /** Connections in the pool. */
  poolMax?: number;
  /** Telemetry rows in one batch from which COPY is used instead of an insert. */
  copyThreshold?: number;
  /** Apply migrations at start (default true). */
  migrate?: boolean;
  connectTimeoutMs?: number;
  logger?: Logger;
}

export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  timescale = false;
  private pool: pg.Pool | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: PgStoreOptions) {
    this.log = opts.logger ?? createLogger({ name: 'pg-store' });
  }

  async start(): Promise<void> {
    const pool = new pg.Pool({
      connectionString: this.opts.url,
      max: this.opts.poolMax ?? 4,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 5000,
    });
    // An idle client that loses its server emits here; without a listener that would end the process.
    pool.on('error', (err) => this.log.warn({ err: err.message }, 'idle database connection lost'));
    this.pool = pool;
    if (this.opts.migrate !== false) {
      try {
        this.timescale = (await migrate(pool, { logger: this.log })).timescale;
      } catch (err) {
        await pool.end();
        this.pool = undefined;
        throw err;
      }
    }
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.end();
  }

  private get p(): pg.Pool {
    if (!this.pool) throw new CodedError('ERR_STORE_NOT_STARTED', 'the PostgreSQL store is not started');
    return this.pool;
  }

  runner(): SqlRunner {
    return this.p;
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.p.connect();
    let broken: unknown;
    // A checked-out client reports a lost connection as an 'error' event besides failing the query;
    // unheard, that event would end the process. The failed query is what we act on.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection itself is gone: drop it from the pool instead of handing it out again.
        broken = rollbackErr;
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async writeBatch(batch: IngestBatch): Promise<WriteResult> {
    const threshold = this.opts.copyThreshold ?? 2000;
    try {
      return await this.tx((c) => writeBatchTx(c as Tx, batch, {
        isolate: false,
        copyThreshold: threshold,
        copyTelemetry: (edge, rows) => copyTelemetry(c, edge, rows),
      }));
    } catch (err) {
      if (!isDataError(err)) throw storeError(err);
      this.log.warn({ edge: batch.edge, err: (err as Error).message }, 'batch refused by the database; writing it record by record');
      try {
        return await this.tx((c) => writeBatchTx(c as Tx, batch, { isolate: true }));
      } catch (err2) {
        throw storeError(err2);
      }
    }
  }

  async deadLetter(records: readonly DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await insertDeadLetters(this.p, records);
    } catch (err) {
      throw storeError(err);
    }
  }

  async cursor(edge: string): Promise<number> {
    const row = (await this.query<{ last_seq: string }>('SELECT last_seq FROM edge_cursor WHERE edge = $1', [edge]))[0];
    return row ? Number(row.last_seq) : 0;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.p.query(sql, params)).rows as R[];
    } catch (err) {
      throw storeError(err);
    }
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.p.query('SELECT 1');
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
}
