/**
 * The alarm and care code's view of the database: the cloud's one port (store/db.ts). `Db` here is the
 * implementation over the store's runner, under the name these modules always used. Row locks
 * (`SELECT … FOR UPDATE`) inside a transaction are what make two staff acting on one alarm at once resolve
 * to one winner.
 */
import type { SqlRunner } from '../migrate.js';
import { RunnerDb, type Db as DbPort } from '../store/db.js';

export { RunnerDb as Db, isUniqueViolation, type Tx } from '../store/db.js';

/** What the alarm and care code accept as a database: the port itself, the store (its runner), or a raw pg Pool / PGlite. */
export type DbSource = DbPort | { runner(): SqlRunner } | SqlRunner;

export function asDb(src: DbSource): DbPort {
  // The store first: it has a tx() of its own too, but answers rows, not { rows, rowCount }.
  if ('runner' in src) return new RunnerDb(() => src.runner());
  if ('tx' in src) return src;
  return new RunnerDb(() => src);
}
