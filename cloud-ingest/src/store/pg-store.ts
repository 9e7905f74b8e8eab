/**
 * Store on PostgreSQL (or TimescaleDB) through a pg Pool. Multi-row `unnest` inserts, and COPY for
 * large telemetry batches.
 */
import pg from 'pg';
import { CodedError, createLogger, type Logger } from '@safe-community/runtime';
import { migrate, type SqlRunner } from '../migrate.js';
import { copyTelemetry } from './copy.js';
import { isDataError, writeBatchTx, type WriteOptions } from './write.js';
import { queryable } from './db.js';
import type { DeadLetterRecord, IngestBatch, Store, StoreHealth, WriteResult } from './types.js';
import { storeError, insertDeadLetters } from './common.js';
import { withPoolTransaction } from './pool-tx.js';

export interface PgStoreOptions {
  url: string;
  /** Connections in the pool. */
  poolMax?: number;
  /** Telemetry rows in one batch from which COPY is used instead of an insert. */
  copyThreshold?: number;
  /** Apply migrations at start (default true). */
  migrate?: boolean;
  /** Variant for a new database (migrate()'s `timescale`): 'auto' (default), 'on', 'off'. */
  timescale?: 'auto' | 'on' | 'off';
  connectTimeoutMs?: number;
  /** Transactions writing envelopes at once; more envelopes wait and then share one transaction. */
  commitConcurrency?: number;
  /** Most envelopes in one group commit. */
  maxGroup?: number;
  logger?: Logger;
}

interface Waiting {
  batch: IngestBatch;
  resolve: (r: WriteResult) => void;
  reject: (err: unknown) => void;
}

export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  timescale = false;
  private pool: pg.Pool | undefined;
  private readonly log: Logger;
  private readonly waiting: Waiting[] = [];
  private active = 0;

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
        this.timescale = (await migrate(pool, { timescale: this.opts.timescale ?? 'auto', logger: this.log })).timescale;
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

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return withPoolTransaction(() => this.p.connect(), fn);
  }


  /**
   * Group commit: envelopes that arrive while `commitConcurrency` transactions are already running wait,
   * and then go together in one transaction. Each transaction pays one WAL flush, so under load the
   * flushes are shared; alone, an envelope still commits at once.
   */
  writeBatch(batch: IngestBatch): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    const limit = this.opts.commitConcurrency ?? 2;
    while (this.active < limit && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.opts.maxGroup ?? 16);
      this.active++;
      void this.commitGroup(group).finally(() => {
        this.active--;
        this.drain();
      });
    }
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    if (group.length > 1) {
      // Cursor rows locked in edge order, so two instances' groups can never wait on each other in a cycle.
      const ordered = group.map((w, i) => ({ w, i })).sort((a, b) => (a.w.batch.edge < b.w.batch.edge ? -1 : a.w.batch.edge > b.w.batch.edge ? 1 : a.i - b.i));
      try {
        const results = await this.tx(async (c) => {
          const out: WriteResult[] = [];
          for (const { w } of ordered) out.push(await writeBatchTx(queryable(c), w.batch, this.writeOptions(c)));
          return out;
        });
        ordered.forEach(({ w }, k) => w.resolve(results[k]!));
        return;
      } catch (err) {
        // One envelope's failure must not decide the others': each goes again on its own.
        this.log.debug({ err: (err as Error).message, envelopes: group.length }, 'group commit failed; committing one by one');
      }
    }
    for (const w of group) {
      try {
        w.resolve(await this.writeOne(w.batch));
      } catch (err) {
        w.reject(err);
      }
    }
  }

  private writeOptions(c: pg.PoolClient): WriteOptions {
    return {
      isolate: false,
      copyThreshold: this.opts.copyThreshold ?? 2000,
      copyTelemetry: (edge, rows) => copyTelemetry(c, edge, rows),
    };
  }

  private async writeOne(batch: IngestBatch): Promise<WriteResult> {
    try {
      return await this.tx((c) => writeBatchTx(queryable(c), batch, this.writeOptions(c)));
    } catch (err) {
      if (!isDataError(err)) throw storeError(err);
      this.log.warn({ edge: batch.edge, err: (err as Error).message }, 'batch refused by the database; writing it record by record');
      try {
        return await this.tx((c) => writeBatchTx(queryable(c), batch, { isolate: true }));
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
