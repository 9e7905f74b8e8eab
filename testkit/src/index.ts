/**
 * Test support shared by every package's tests: fresh databases on the machine's PostgreSQL, free ports,
 * and polling. Tests use real services; this only keeps them from stepping on each other.
 */
import pg from 'pg';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';

/** The PostgreSQL the tests use: DATABASE_URL, or the local server with trust auth. */
export const PG_ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The two schemas the store has: plain PostgreSQL, or TimescaleDB (hypertables, compression, policies). */
export type StoreVariant = 'plain' | 'timescale';

/**
 * The variant a fresh database on the tests' server gets from the store's auto-detection: TimescaleDB when
 * the server preloads it. `TEST_STORE` (set by the TimescaleDB pass) states it instead, so a pass meant for
 * TimescaleDB fails on a server that would quietly give the plain variant.
 */
export async function expectedStore(): Promise<StoreVariant> {
  const stated = process.env.TEST_STORE;
  if (stated === 'plain' || stated === 'timescale') return stated;
  if (stated) throw new Error(`TEST_STORE must be plain or timescale, not ${stated}`);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const libs = (await admin.query<{ l: string | null }>(`SELECT current_setting('shared_preload_libraries', true) AS l`)).rows[0]?.l ?? '';
    return libs.split(',').map((x) => x.trim()).includes('timescaledb') ? 'timescale' : 'plain';
  } finally {
    await admin.end();
  }
}

/** Throws when a store's choice of variant is not the one the tests' server should give (a shared set-up calls it). */
export async function checkStoreVariant(timescale: boolean): Promise<void> {
  const expected = await expectedStore();
  if (timescale !== (expected === 'timescale')) {
    throw new Error(`the store chose the ${timescale ? 'timescale' : 'plain'} variant on ${new URL(PG_ADMIN_URL).host}, expected ${expected}`);
  }
}

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database for one test file; `drop()` removes it (call it in t.teardown). */
export async function freshDatabase(prefix = 't'): Promise<FreshDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        // Connections a test just closed may still be leaving the server. Wait for them rather than
        // terminating them: a FORCE drop races a client's own Terminate and surfaces as an error in it.
        for (let i = 0; i < 50; i++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== '55006') throw err; // object_in_use
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** Paths to the shared real models and media (never committed). */
export const MODELS_DIR = process.env.MODELS_DIR ?? new URL('../../../shared/models', import.meta.url).pathname;
export const MEDIA_DIR = process.env.MEDIA_DIR ?? new URL('../../../shared/media', import.meta.url).pathname;

/**
 * TimescaleDB only: compresses every chunk of every hypertable now (what the compression policies do to
 * chunks once they age), so a test can read the same rows back from compressed chunks. Returns how many
 * chunks are compressed afterwards.
 */
export async function compressAllChunks(db: { query(sql: string): Promise<{ rows: any[] }> }): Promise<number> {
  await db.query(`SELECT compress_chunk(c, if_not_compressed => true)
                    FROM timescaledb_information.hypertables h,
                         LATERAL show_chunks(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) c
                   WHERE h.compression_enabled`);
  const r = await db.query(`SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed`);
  return Number(r.rows[0]?.n ?? 0);
}
export { rawConnect, connectPacket, openSocket, remainingLength } from './mqtt-raw.js';
export { startAedes, RestartableBroker, type TestBroker } from './broker.js';
export { FakeClock, fakeClock, nextTurn, FAKE_CLOCK_START } from './clock.js';
export { tempDir, startParts, type Teardown, type Part } from './parts.js';
