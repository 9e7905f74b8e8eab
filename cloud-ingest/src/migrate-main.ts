/**
 * Applies the migrations to DATABASE_URL and exits, without starting the ingest: for preparing a new
 * database before data is copied into it (docs/timescaledb.md, moving a plain deployment to TimescaleDB).
 * STORE_TIMESCALE=auto|on|off (default auto) chooses the variant as the ingest would; `on` fails with
 * ERR_TIMESCALE_MISSING and the fix when the server cannot run it. Prints the variant and what it applied.
 */
import pg from 'pg';
import { CodedError, createLogger } from '@safe-community/runtime';
import { migrate } from './migrate.js';

const MODES = ['auto', 'on', 'off'] as const;
type Mode = (typeof MODES)[number];

const log = createLogger({ name: 'migrate' });
const url = process.env.DATABASE_URL;
const mode = (process.env.STORE_TIMESCALE ?? 'auto') as Mode;
try {
  if (!url) throw new CodedError('ERR_CONFIG', 'DATABASE_URL: the PostgreSQL to migrate is required');
  if (!MODES.includes(mode)) throw new CodedError('ERR_CONFIG', `STORE_TIMESCALE must be one of ${MODES.join(', ')}, got '${mode}'`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const r = await migrate(pool, { timescale: mode, logger: log });
    console.log(`${r.timescale ? 'timescale' : 'plain'} variant; applied ${r.applied.length ? r.applied.join(', ') : 'nothing (up to date)'}`);
  } finally {
    await pool.end();
  }
} catch (err) {
  log.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'migration stopped');
  process.exitCode = (err as { code?: string }).code === 'ERR_CONFIG' ? 2 : 1;
}
