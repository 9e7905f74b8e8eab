/**
 * Forward-only SQL migrations: `migrations/NNNN_name.sql`, or a pair `NNNN_name.plain.sql` /
 * `NNNN_name.timescale.sql` of which one is chosen at migration time (TimescaleDB when the extension is
 * available on the server, plain PostgreSQL otherwise). Each applied file is recorded with its checksum; a
 * recorded file that changed afterwards stops the start (ERR_MIGRATION_CHANGED), because the database no
 * longer matches the code that describes it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError, type Logger } from '@safe-community/runtime';
import { isCatalogRace, isConflict, retryDb } from './store/transient.js';

/**
 * Anything that runs SQL: a pg Client or Pool, or a PGlite instance. Rows come untyped from the drivers;
 * code here names their columns with `select<R>`, and the store's `Db` port (store/db.ts) types them for the rest.
 */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

/** A query's rows as the columns its SQL names (the driver gives them untyped). */
async function select<R>(db: SqlRunner, sql: string, params?: unknown[]): Promise<R[]> {
  return (await db.query(sql, params)).rows as R[];
}

/** PGlite runs multi-statement text with exec(); pg's query() does it with the simple protocol. */
interface ExecRunner extends SqlRunner {
  exec(sql: string): Promise<unknown>;
}

/** A pg Pool hands out dedicated connections; the advisory lock and transactions need one connection. */
interface PoolLike extends SqlRunner {
  connect(): Promise<SqlRunner & { release(err?: unknown): void }>;
  totalCount: number;
}

export interface MigrateOptions {
  /** Folder of NNNN_*.sql files; defaults to this package's migrations/. */
  dir?: string;
  /** 'auto' (default) uses TimescaleDB when the server offers it. */
  timescale?: 'auto' | 'on' | 'off';
  logger?: Logger;
}

export interface MigrateResult {
  /** Versions applied by this call, e.g. ['0001_core', '0002_timeseries']. */
  applied: string[];
  timescale: boolean;
}

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Fixed key of the advisory lock that serialises migrators started at the same time ('sc-migr'). */
const LOCK_KEY = 0x73632d6d;

interface MigrationFile {
  version: string;
  plain: string | undefined;
  timescale: string | undefined;
  single: string | undefined;
}

const FILE_RE = /^(\d{4}_[a-z0-9_]+?)(?:\.(plain|timescale))?\.sql$/;

export async function listMigrations(dir: string): Promise<MigrationFile[]> {
  const byVersion = new Map<string, MigrationFile>();
  for (const name of (await readdir(dir)).sort()) {
    const m = FILE_RE.exec(name);
    if (!m) continue;
    const version = m[1]!;
    const entry = byVersion.get(version) ?? { version, plain: undefined, timescale: undefined, single: undefined };
    if (m[2] === 'plain') entry.plain = name;
    else if (m[2] === 'timescale') entry.timescale = name;
    else entry.single = name;
    byVersion.set(version, entry);
  }
  const out = [...byVersion.values()].sort((a, b) => a.version.localeCompare(b.version));
  for (const f of out) {
    if (f.single && (f.plain || f.timescale)) {
      throw new CodedError('ERR_MIGRATION_LAYOUT', `migration ${f.version} has both a single file and a variant`);
    }
    if (!f.single && (!f.plain || !f.timescale)) {
      throw new CodedError('ERR_MIGRATION_LAYOUT', `migration ${f.version} needs both .plain.sql and .timescale.sql`);
    }
  }
  return out;
}

const isExec = (db: SqlRunner): db is ExecRunner => typeof (db as Partial<ExecRunner>).exec === 'function';
const isPool = (db: SqlRunner): db is PoolLike =>
  typeof (db as Partial<PoolLike>).connect === 'function' && typeof (db as Partial<PoolLike>).totalCount === 'number';

const checksum = (text: string): string => createHash('sha256').update(text).digest('hex');

async function runScript(db: SqlRunner, sql: string): Promise<void> {
  if (isExec(db)) await db.exec(sql);
  else await db.query(sql);
}

/** Tries per migration file when it loses a race for catalog rows (`isCatalogRace`, `isConflict`). */
const MIGRATION_ATTEMPTS = 3;

/** One migration file and its record, in one transaction; rolled back whole when it fails. */
async function applyOne(db: SqlRunner, text: string, record: [string, string, string, string], logger?: Logger): Promise<void> {
  await runScript(db, 'BEGIN');
  try {
    await runScript(db, text);
    await db.query('INSERT INTO schema_migrations (version, file, variant, checksum) VALUES ($1, $2, $3, $4)', record);
    await runScript(db, 'COMMIT');
  } catch (err) {
    await runScript(db, 'ROLLBACK').catch((rollbackErr: unknown) => {
      logger?.warn({ err: rollbackErr }, 'rollback after a failed migration failed too');
    });
    throw err;
  }
}

/** Applies every migration not yet recorded, in order, each in its own transaction. */
export async function migrate(db: SqlRunner, opts: MigrateOptions = {}): Promise<MigrateResult> {
  if (isPool(db)) {
    const conn = await db.connect();
    try {
      return await migrateOn(conn, opts);
    } finally {
      conn.release();
    }
  }
  return migrateOn(db, opts);
}

async function migrateOn(db: SqlRunner, opts: MigrateOptions): Promise<MigrateResult> {
  const dir = opts.dir ?? DEFAULT_MIGRATIONS_DIR;
  const files = await listMigrations(dir);
  // PGlite is one in-process connection: nobody can race it, and it has no use for a lock.
  const lock = !isExec(db);
  if (lock) await db.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    text PRIMARY KEY,
      file       text NOT NULL,
      variant    text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const timescale = await chooseTimescale(db, opts.timescale ?? 'auto', opts.logger);
    const done = new Map<string, { file: string; checksum: string }>();
    for (const r of await select<{ version: string; file: string; checksum: string }>(db, 'SELECT version, file, checksum FROM schema_migrations')) {
      done.set(r.version, { file: r.file, checksum: r.checksum });
    }
    const applied: string[] = [];
    for (const f of files) {
      const prior = done.get(f.version);
      if (prior) {
        // Check the file that actually ran, whichever variant that was.
        let text: string;
        try {
          text = await readFile(join(dir, prior.file), 'utf8');
        } catch (err) {
          throw new CodedError('ERR_MIGRATION_MISSING', `applied migration file ${prior.file} is missing`, { cause: err });
        }
        if (checksum(text) !== prior.checksum) {
          throw new CodedError('ERR_MIGRATION_CHANGED',
            `migration ${prior.file} changed after it was applied; add a new migration instead of editing it`);
        }
        continue;
      }
      const file = f.single ?? (timescale ? f.timescale! : f.plain!);
      const variant = f.single ? 'any' : timescale ? 'timescale' : 'plain';
      const text = await readFile(join(dir, file), 'utf8');
      try {
        // A file that lost a race for catalog rows (TimescaleDB's job scheduler) rolled back whole: try again.
        await retryDb(() => applyOne(db, text, [f.version, file, variant, checksum(text)], opts.logger), {
          attempts: MIGRATION_ATTEMPTS, delayMs: (n) => 200 * n, retryIf: (err) => isCatalogRace(err) || isConflict(err),
          onRetry: (err, attempt) => opts.logger?.warn({ file, attempt, err }, 'migration lost a race with another session; trying again'),
        });
      } catch (err) {
        throw new CodedError('ERR_MIGRATION_FAILED', `migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      opts.logger?.info({ file }, 'migration applied');
      applied.push(f.version);
    }
    return { applied, timescale };
  } finally {
    if (lock) await db.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
}

/**
 * Decides the variant once per database: if any variant migration is already recorded, that choice
 * stands (a server that gains or loses the extension later must not mix the two schemas).
 *
 * TimescaleDB is used only when it is already created in this database or preloaded by the server: a server
 * that merely has the extension files installed (package installed, config not yet changed) ends the
 * connection with FATAL "extension must be preloaded" on CREATE EXTENSION, which would take the service down.
 */
async function chooseTimescale(db: SqlRunner, mode: 'auto' | 'on' | 'off', logger?: MigrateOptions['logger']): Promise<boolean> {
  const [prior] = await select<{ variant: string }>(db, `SELECT variant FROM schema_migrations WHERE variant <> 'any' ORDER BY version LIMIT 1`);
  if (prior) return prior.variant === 'timescale';
  if (mode === 'off') return false;
  const created = (await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`)).rows.length > 0;
  if (created) return true;
  const available = (await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rows.length > 0;
  const [preloadRow] = await select<{ libs: string | null }>(db, `SELECT current_setting('shared_preload_libraries', true) AS libs`);
  const preloaded = String(preloadRow?.libs ?? '').split(',').map((l) => l.trim()).includes('timescaledb');
  if (!available || !preloaded) {
    const why = !available
      ? 'the server has no timescaledb extension'
      : 'the timescaledb extension is installed but not in shared_preload_libraries';
    if (mode === 'on') {
      throw new CodedError('ERR_TIMESCALE_MISSING', `timescale: on, but ${why}; ` + (available
        ? "add shared_preload_libraries = 'timescaledb' to postgresql.conf and restart the server, or set timescale to auto or off"
        : 'install TimescaleDB for this PostgreSQL, or set timescale to auto or off'));
    }
    logger?.info({ reason: why }, `store: plain PostgreSQL variant (${why})`);
    return false;
  }
  await db.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  return true;
}
