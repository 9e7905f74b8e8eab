/** Shared set-up of the alarm, rule, escalation and dispatch tests: a migrated database on either backend, a manual clock, actors. */
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { checkStoreVariant, freshDatabase } from '@safe-community/testkit';
import { createLogger, type Clock } from '@safe-community/runtime';
import { migrate, type SqlRunner } from '@safe-community/cloud-ingest';
import type { Actor } from '../../src/alarms/index.js';

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

/** Time that moves only when the test says so; timers fire in due order on advance(). */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  constructor(start = Date.parse('2026-11-29T08:00:00.000Z')) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Moves time on without firing anything (the tests drive runDue themselves). */
  advance(ms: number): void {
    this.t += ms;
  }
  iso(): string {
    return new Date(this.t).toISOString();
  }
}

export const quietLogger = () => createLogger({ level: 'silent' });

export const admin: Actor = { user: 'ada', role: 'admin', sites: '*' };
export const guard: Actor = { user: 'sam', role: 'security', sites: ['site-a'] };
export const guard2: Actor = { user: 'lee', role: 'security', sites: ['site-a'] };
export const installer: Actor = { user: 'ian', role: 'installer', sites: ['site-a'] };
export const viewer: Actor = { user: 'val', role: 'viewer', sites: ['site-a'] };
export const otherSite: Actor = { user: 'bob', role: 'security', sites: ['site-b'] };
