/**
 * Applies the migrations to DATABASE_URL and exits, without starting the ingest: for preparing a new
 * database before data is copied into it (docs/timescaledb.md, moving a plain deployment to TimescaleDB).
 * STORE_TIMESCALE=auto|on|off (the ingest's `timescale` setting, default auto) chooses the variant as the
 * ingest would; `on` fails with ERR_TIMESCALE_MISSING and the fix when the server cannot run it. Prints the
 * variant and what it applied.
 */
import pg from 'pg';
import { CodedError, createLogger } from '@safe-community/runtime';
import { configFromEnv, loadConfig } from './config.js';
import { migrate } from './migrate.js';

const log = createLogger({ name: 'migrate' });
try {
  const config = loadConfig(configFromEnv());
  if (!config.databaseUrl) throw new CodedError('ERR_CONFIG', 'DATABASE_URL: the PostgreSQL to migrate is required');
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    const r = await migrate(pool, { timescale: config.timescale, logger: log });
    console.log(`${r.timescale ? 'timescale' : 'plain'} variant; applied ${r.applied.length ? r.applied.join(', ') : 'nothing (up to date)'}`);
  } finally {
    await pool.end();
  }
} catch (err) {
  log.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'migration stopped');
  process.exitCode = (err as { code?: string }).code === 'ERR_CONFIG' ? 2 : 1;
}
