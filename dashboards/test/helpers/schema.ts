/**
 * Builds the cloud schema on a fresh database: the ingest's own migrate() when the package exports it,
 * otherwise the plain-PostgreSQL migration files in order (the TimescaleDB variants are skipped; this
 * machine's PostgreSQL has no extension).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const MIGRATIONS = fileURLToPath(new URL('../../../cloud-ingest/migrations', import.meta.url));

type Migrate = (db: pg.Client) => Promise<unknown>;

async function ingestMigrate(): Promise<Migrate | null> {
  try {
    const mod = (await import('@safe-community/cloud-ingest')) as { migrate?: Migrate };
    return typeof mod.migrate === 'function' ? mod.migrate : null;
  } catch (err) {
    // The ingest package may not export an entry point yet; the files below build the same schema.
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || (err as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return null;
    throw err;
  }
}

export async function buildSchema(db: pg.Client): Promise<'migrate' | 'files'> {
  const migrate = await ingestMigrate();
  if (migrate) {
    await migrate(db);
    return 'migrate';
  }
  const files = (await readdir(MIGRATIONS)).filter((f) => f.endsWith('.sql') && !f.endsWith('.timescale.sql')).sort();
  for (const f of files) await db.query(await readFile(join(MIGRATIONS, f), 'utf8'));
  return 'files';
}
