/** Shared set-up of the alarm, rule, escalation and dispatch tests: a migrated database on either backend, a fake clock, actors. */
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { FakeClock, checkStoreVariant, freshDatabase } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { migrate, type SqlRunner } from '@safe-community/cloud-ingest';
import { RecordingNotifier, type Actor } from '../../src/alarms/index.js';

export type BackendName = 'postgres' | 'pglite';
export const BACKENDS: readonly BackendName[] = ['postgres', 'pglite'];

export interface Backend {
  name: BackendName;
  runner: SqlRunner;
  close(): Promise<void>;
}

export async function openBackend(name: BackendName): Promise<Backend> {
  if (name === 'pglite') {
    const db = new PGlite();
    await db.waitReady;
    await migrate(db);
    return { name, runner: db, close: () => db.close() };
  }
  const fresh = await freshDatabase('alarms');
  const pool = new pg.Pool({ connectionString: fresh.url, max: 6 });
  // pool.end() resolves while its clients' sockets are still closing; the forced DROP in drop() can then
  // terminate one of them, and an 'error' event without a listener would fail the test after it passed.
  const late: Error[] = [];
  pool.on('error', (err) => late.push(err));
  await checkStoreVariant((await migrate(pool)).timescale);
  return {
    name,
    runner: pool,
    async close() {
      await pool.end();
      await fresh.drop();
    },
  };
}

export interface AlarmRig {
  be: Backend;
  clock: FakeClock;
  notifier: RecordingNotifier;
}

/**
 * A migrated backend closed at the end of the test, a fake clock and a recording notifier: what every
 * alarm, rule and dispatch test starts from. The clock's skip() moves time without firing the services'
 * own polls, so each test drives runDue itself.
 */
export async function openAlarmRig(t: { teardown(fn: () => unknown): void }, name: BackendName): Promise<AlarmRig> {
  const be = await openBackend(name);
  t.teardown(() => be.close());
  return { be, clock: new FakeClock(), notifier: new RecordingNotifier() };
}

export const quietLogger = () => createLogger({ level: 'silent' });

export const admin: Actor = { user: 'ada', role: 'admin', sites: '*' };
export const guard: Actor = { user: 'sam', role: 'security', sites: ['site-a'] };
export const guard2: Actor = { user: 'lee', role: 'security', sites: ['site-a'] };
export const installer: Actor = { user: 'ian', role: 'installer', sites: ['site-a'] };
export const viewer: Actor = { user: 'val', role: 'viewer', sites: ['site-a'] };
export const otherSite: Actor = { user: 'bob', role: 'security', sites: ['site-b'] };
