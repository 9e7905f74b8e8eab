/**
 * Store on PGlite (PostgreSQL compiled to WebAssembly, in process): the zero-setup default when no
 * DATABASE_URL is given. One connection, so transactions run one at a time; batched `unnest` inserts,
 * no COPY. Same SQL and same contract tests as the PostgreSQL store.
 */
import { PGlite } from '@electric-sql/pglite';
import { CodedError, createLogger, type Logger } from '@safe-community/runtime';
import { migrate, type SqlRunner } from '../migrate.js';
import { isDataError, writeBatchTx } from './write.js';
import { queryable } from './db.js';
import type { DeadLetterRecord, IngestBatch, Store, StoreHealth, WriteResult } from './types.js';
import { insertDeadLetters, storeError } from './common.js';

export interface PgliteStoreOptions {
  /** A folder for the data; in memory when absent (everything is gone at stop). */
  dataDir?: string | null;
  migrate?: boolean;
  logger?: Logger;
  /** An instance owned by the caller (the demo shares one); it is not closed at stop. */
  instance?: PGlite;
}

export class PgliteStore implements Store {
  readonly kind = 'pglite' as const;
  timescale = false;
  private db: PGlite | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: PgliteStoreOptions = {}) {
    this.log = opts.logger ?? createLogger({ name: 'pglite-store' });
  }

  async start(): Promise<void> {
    const db = this.opts.instance ?? (this.opts.dataDir ? new PGlite(this.opts.dataDir) : new PGlite());
    await db.waitReady;
    this.db = db;
    if (this.opts.migrate !== false) this.timescale = (await migrate(db, { logger: this.log })).timescale;
  }

  async stop(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db && !this.opts.instance) await db.close();
  }

  private get d(): PGlite {
    if (!this.db) throw new CodedError('ERR_STORE_NOT_STARTED', 'the PGlite store is not started');
    return this.db;
  }

  runner(): SqlRunner {
    return this.d;
  }

  async writeBatch(batch: IngestBatch): Promise<WriteResult> {
    try {
      return await this.d.transaction((tx) => writeBatchTx(queryable(tx), batch, { isolate: false }));
    } catch (err) {
      if (!isDataError(err)) throw storeError(err);
      this.log.warn({ edge: batch.edge, err: (err as Error).message }, 'batch refused by the database; writing it record by record');
      try {
        return await this.d.transaction((tx) => writeBatchTx(queryable(tx), batch, { isolate: true }));
      } catch (err2) {
        throw storeError(err2);
      }
    }
  }

  async deadLetter(records: readonly DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await insertDeadLetters(this.d, records);
    } catch (err) {
      throw storeError(err);
    }
  }

  async cursor(edge: string): Promise<number> {
    const row = (await this.query<{ last_seq: string | number }>('SELECT last_seq FROM edge_cursor WHERE edge = $1', [edge]))[0];
    return row ? Number(row.last_seq) : 0;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.d.query<R>(sql, params)).rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.d.query('SELECT 1');
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
}
