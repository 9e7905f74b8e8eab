/**
 * Partition upkeep, retention and rollups on plain PostgreSQL and PGlite; on TimescaleDB (the suite's
 * TimescaleDB pass) what its policies do instead, with the scrubs on compressed chunks.
 */
import t, { type Test } from 'tap';
import { expectedStore, freshDatabase, waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { Maintenance, PgStore, PgliteStore, type Store } from '@safe-community/cloud-ingest';

const logger = createLogger({ level: 'silent' });
const opts = { partitionsAheadDays: 12, retentionDays: 30, plateRetentionDays: 7, auditRetentionDays: 90, partitionIntervalSec: 3600, rollupRefreshSec: 1, logger };

async function partitions(store: Store, table: string): Promise<string[]> {
  const rows = await store.query<{ relname: string }>(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = $1 ORDER BY 1`, [table]);
  return rows.map((r) => r.relname);
}

async function insertTelemetry(store: Store, rows: Array<[string, number]>): Promise<void> {
  await store.query(
    `INSERT INTO telemetry (edge, seq, site, device, metric, value, time)
     SELECT 'm', s, 'site-1', 'S1', 'temp.c', v, t FROM unnest($1::timestamptz[], $2::float8[]) WITH ORDINALITY AS u(t, v, s)`,
    [rows.map((r) => r[0]), rows.map((r) => r[1])]);
}

/** Plate text and the audit trail, past their retention; `settle` runs after the rows are written (TimescaleDB compresses them). */
async function platesAndAudit(t: Test, store: Store, m: Maintenance, settle: () => Promise<void>): Promise<void> {
  const recent = new Date(Date.now() - 60_000).toISOString();
  // Plate text is personal data: gone from vehicle events past the plate retention, the events stay.
  const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
  await store.query(`SELECT ensure_day_partitions((now() AT TIME ZONE 'UTC')::date - 11, 3)`);
  await store.query(
    `INSERT INTO events (edge, seq, id, site, device, kind, severity, time, payload) VALUES
      ('m', 1, gen_random_uuid(), 'site-1', 'BR1', 'vehicle.arrived', 'info', $1, '{"plate":"京A12345","lane":"L1"}'),
      ('m', 2, gen_random_uuid(), 'site-1', 'BR1', 'vehicle.arrived', 'info', $2, '{"plate":"沪B·9X77Q"}'),
      ('m', 3, gen_random_uuid(), 'site-1', 'G1', 'door.forced', 'major', $1, '{"plate":"not a vehicle"}')`, [tenDaysAgo, recent]);
  await settle();
  t.equal(await m.scrubPlates(), 1, 'one old vehicle event scrubbed');
  const ev = await store.query<{ seq: number; payload: Record<string, unknown> }>(`SELECT seq::int AS seq, payload FROM events WHERE edge = 'm' ORDER BY seq`);
  t.same(ev.map((e) => e.payload), [{ lane: 'L1', plate_removed: true }, { plate: '沪B·9X77Q' }, { plate: 'not a vehicle' }]);

  // The API audit trail is kept for auditRetentionDays, then deleted.
  await store.query(
    `INSERT INTO api_audit (at, actor, role, request_id, method, route, status) VALUES
      (now() - interval '91 days', 'u1', 'admin', 'r1', 'POST', '/api/v1/users', 201),
      (now() - interval '89 days', 'u1', 'admin', 'r2', 'POST', '/api/v1/users', 201)`);
  t.equal(await m.pruneAudit(), 1, 'the row past 90 days is deleted');
  t.same((await store.query<{ request_id: string }>('SELECT request_id FROM api_audit')).map((r) => r.request_id), ['r2'], 'the newer one stays');
}

/** The per-minute and per-hour rollups see new rows (plain: the refresh timer; TimescaleDB: real-time aggregation). */
async function rollups(t: Test, store: Store): Promise<void> {
  const minute = Date.parse('2026-11-29T09:00:00.000Z');
  const at = (s: number) => new Date(minute + s * 1000).toISOString();
  await insertTelemetry(store, [[at(1), 10], [at(30), 20], [at(59), 30], [at(61), 100]]);
  // A resident's position never goes into a rollup (migration 0080).
  await store.query(`INSERT INTO telemetry (edge, seq, site, device, metric, value, time) VALUES ('m', 99, 'site-1', 'W1', 'wearable.lat', 31.2, $1)`, [at(2)]);
  const rows = await waitFor(async () => {
    const r = await store.query<{ bucket: Date; n: string | number; avg: number; max: number }>(
      `SELECT bucket, n, avg, max FROM telemetry_1m WHERE site = 'site-1' AND bucket >= '2026-11-29T09:00:00Z' AND bucket < '2026-11-29T10:00:00Z' ORDER BY bucket`);
    return r.length === 2 ? r : null;
  }, { timeoutMs: 10_000, what: 'telemetry_1m filled' });
  t.same(rows.map((r) => [new Date(r.bucket).toISOString(), Number(r.n), r.avg, r.max]), [
    ['2026-11-29T09:00:00.000Z', 3, 20, 30],
    ['2026-11-29T09:01:00.000Z', 1, 100, 100],
  ]);
  await insertTelemetry(store, [[at(62), 200]]);
  const hour = await waitFor(async () => {
    const r = await store.query<{ n: string | number; avg: number }>(`SELECT n, avg FROM telemetry_1h WHERE site = 'site-1' AND bucket = '2026-11-29T09:00:00Z'`);
    return r.length === 1 && Number(r[0]!.n) === 5 ? r : null;
  }, { timeoutMs: 10_000, what: 'a later refresh (concurrently) sees the new row' });
  t.equal(hour[0]!.avg, 72, 'hourly average weighted by minute counts');
  const lat = await store.query(`SELECT 1 FROM telemetry_1m WHERE metric = 'wearable.lat' UNION ALL SELECT 1 FROM telemetry_1h WHERE metric = 'wearable.lat'`);
  t.equal(lat.length, 0, 'no position in the rollups');
}

function suite(name: string, make: () => Promise<{ store: Store; done: () => Promise<void> }>): void {
  t.test(name, async (t) => {
    const { store, done } = await make();
    t.teardown(done);
    const m = new Maintenance(store, opts);

    const before = await partitions(store, 'telemetry');
    const r = await m.runPartitions();
    const after = await partitions(store, 'telemetry');
    t.ok(r.created > 0, `partitions created ahead (${r.created})`);
    t.equal(after.length - before.length, r.created / 4, 'one per day per table');
    const today = new Date();
    const ahead = new Date(today.getTime() + 12 * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
    t.ok(after.includes(`telemetry_${ahead}`), `telemetry_${ahead} exists`);

    // Old data in old partitions goes; recent data stays.
    await store.query(`SELECT ensure_day_partitions((now() AT TIME ZONE 'UTC')::date - 40, 3)`);
    const old = new Date(Date.now() - 39 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 60_000).toISOString();
    await insertTelemetry(store, [[old, 1], [recent, 2]]);
    const r2 = await m.runPartitions();
    t.equal(r2.dropped, 12, 'three old days of four tables dropped');
    const left = await store.query<{ value: number }>(`SELECT value FROM telemetry WHERE edge = 'm'`);
    t.same(left, [{ value: 2 }], 'only the recent row is left');
    t.same(await m.runPartitions(), { created: 0, dropped: 0 }, 'a second round has nothing to do');

    await platesAndAudit(t, store, m, async () => undefined);

    // Rollups, refreshed on the timer (same database: one start of the store per backend).
    await m.start();
    t.teardown(() => m.stop());
    await rollups(t, store);
  });
}

/**
 * TimescaleDB: no partitions to make, retention as policies set from the setting and run by the job
 * scheduler, plate text scrubbed from compressed chunks, real-time rollups with no refresh timer.
 */
function timescaleSuite(): void {
  t.test('TimescaleDB: retention policies from the setting, scrubs on compressed chunks, real-time rollups', async (t) => {
    const db = await freshDatabase('maint');
    const store = new PgStore({ url: db.url, logger });
    await store.start();
    t.teardown(async () => { await store.stop(); await db.drop(); });
    t.equal(store.timescale, true, 'the store chose TimescaleDB');
    const m = new Maintenance(store, opts);
    const retention = async () => (await store.query<{ h: string; d: string }>(
      `SELECT hypertable_name AS h, config->>'drop_after' AS d FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' ORDER BY 1`));

    t.same(await m.runPartitions(), { created: 0, dropped: 4 }, 'no partitions to make; four retention policies set');
    t.same((await retention()).map((r) => `${r.h}:${r.d}`),
      ['command_results:30 days', 'events:30 days', 'linkage_executions:30 days', 'telemetry:30 days'], 'one per hypertable, at retentionDays');
    t.same(await m.runPartitions(), { created: 0, dropped: 0 }, 'a second round has nothing to do');

    // The policies do the dropping: old chunks go, recent data stays.
    const old = new Date(Date.now() - 39 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 60_000).toISOString();
    await insertTelemetry(store, [[old, 1], [recent, 2]]);
    const jobs = await store.query<{ id: number }>(`SELECT job_id AS id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'telemetry'`);
    t.equal(jobs.length, 1);
    await store.query('CALL run_job($1)', [jobs[0]!.id]);
    t.same(await store.query(`SELECT value FROM telemetry WHERE edge = 'm'`), [{ value: 2 }], 'only the recent row is left');

    // Retention 0 keeps everything: the policies are removed.
    t.same(await new Maintenance(store, { ...opts, retentionDays: 0 }).runPartitions(), { created: 0, dropped: 4 }, 'four policies removed');
    t.same(await retention(), [], 'no retention policy left');

    const compressed = async () => (await store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'events' AND is_compressed`))[0]!.n;
    await platesAndAudit(t, store, m, async () => {
      await store.query(`SELECT compress_chunk(c) FROM show_chunks('events', older_than => INTERVAL '2 days') c`);
      t.ok(await compressed() > 0, 'the old vehicle event is in a compressed chunk');
    });

    await m.start();
    t.teardown(() => m.stop());
    await rollups(t, store);
  });
}

if (await expectedStore() === 'timescale') {
  timescaleSuite();
} else {
  suite('PostgreSQL: partitions ahead, retention, rollups', async () => {
    const db = await freshDatabase('maint');
    const store = new PgStore({ url: db.url, logger });
    await store.start();
    return { store, done: async () => { await store.stop(); await db.drop(); } };
  });
}

suite('PGlite: partitions ahead, retention, rollups', async () => {
  const store = new PgliteStore({ logger });
  await store.start();
  return { store, done: () => store.stop() };
});
