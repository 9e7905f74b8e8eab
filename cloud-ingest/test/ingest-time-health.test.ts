/**
 * Issue 13: clocks and health. A record dated 8 days ahead is stored at the ingest time (and flagged), never
 * in the default partition; a failing maintenance step (a future row already there) does not stop the
 * location retention behind it, raises an alarm and shows in /health; an ingest stuck on a locked cursor
 * row shows as degraded with the age of its oldest envelope while the store itself is up.
 */
import t from 'tap';
import pg from 'pg';
import { freshDatabase, waitFor } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { createIngestService, Maintenance } from '@safe-community/cloud-ingest';
import { envelope, event, telemetry } from './helpers/messages.js';

const DAY = 86_400_000;
const db = await freshDatabase('timehealth');
const ingest = createIngestService({
  logLevel: 'silent', port: 0, databaseUrl: db.url, stuckAfterSec: 1,
  maintenance: { enabled: true, partitionsAheadDays: 30, partitionIntervalSec: 3600, rollupRefreshSec: 3600 },
  care: { locationRetentionDays: 30 },
  // The envelopes here come from unregistered test edges; edge auth has its own suite (test/security).
  api: { edgeAuth: false },
});
t.teardown(async () => {
  await ingest.stop();
  await db.drop();
});
// A telemetry row 20 days ahead, left in the default partition by a version without time sanity, and an
// old resident position past retention: written before the service (and its maintenance) starts.
{
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const migrateOnly = createIngestService({ logLevel: 'silent', port: 0, databaseUrl: db.url, maintenance: { enabled: false }, api: { enabled: false } });
  await migrateOnly.start();
  await migrateOnly.stop();
  await c.query(`INSERT INTO telemetry (edge, seq, site, device, metric, value, time) VALUES
    ('old', 1, 'site-1', 'S1', 'temp.c', 20, $1), ('old', 2, 'site-1', 'W-1', 'wearable.lat', 22.5, $2)`,
  [new Date(Date.now() + 20 * DAY).toISOString(), new Date(Date.now() - 40 * DAY).toISOString()]);
  await c.end();
}
await ingest.start();
const base = `http://127.0.0.1:${ingest.address().port}`;
const post = (body: unknown) => fetch(`${base}/ingest/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

t.test('records dated 8 days ahead are stored at the ingest time; the event keeps its own time in a tag', async (t) => {
  const ahead = new Date(Date.now() + 8 * DAY).toISOString();
  const tm = telemetry('clk', 1) as { data: { time: string } };
  tm.data.time = ahead;
  const ev = event('clk', 2) as { data: { edgeTime: string } };
  ev.data.edgeTime = ahead;
  const before = Date.now();
  const r = await post(envelope('clk', [tm, ev, telemetry('clk', 3)]));
  t.match(await r.json(), { upTo: 3, rejected: [] });
  const [row] = await ingest.store.query<{ time: Date }>(`SELECT time FROM telemetry WHERE edge = 'clk' AND seq = 1`);
  t.ok(Math.abs(row!.time.getTime() - before) < 60_000, 'telemetry stored at the ingest time');
  const [e] = await ingest.store.query<{ time: Date; tags: Record<string, string> }>(`SELECT time, tags FROM events WHERE edge = 'clk'`);
  t.ok(Math.abs(e!.time.getTime() - before) < 60_000, 'event stored at the ingest time');
  t.equal(e!.tags.clock_skew, ahead, 'the original time is kept');
  const inDefault = await ingest.store.query(`SELECT 1 FROM telemetry_default WHERE edge = 'clk' AND seq = 1`);
  t.equal(inDefault.length, 0, 'the future point is not in the default partition');
  t.equal(ingest.counters().clockAdjusted, 2);
});

t.test('a failing partition step does not stop location retention; it raises an alarm and degrades /health', async (t) => {
  // The start round ran already: the partition step failed on the future row, the location step went on.
  const pos = await ingest.store.query(`SELECT 1 FROM telemetry WHERE edge = 'old' AND metric = 'wearable.lat'`);
  t.equal(pos.length, 0, 'the old position past retention is deleted');
  const alarms = await waitFor(async () => {
    const rows = await ingest.store.query<{ type: string; message: string }>(`SELECT type, message FROM alarms WHERE type = 'ingest.maintenance_failed'`);
    return rows.length > 0 ? rows : null;
  }, { what: 'maintenance alarm' });
  t.match(alarms[0]!.message, /partitions/);
  const h = await fetch(`${base}/health`);
  t.equal(h.status, 200, 'degraded still answers 200');
  t.match(await h.json(), { status: 'degraded', parts: { maintenance: { state: 'degraded', reason: /partitions/ }, store: { state: 'up' } } });
});

t.test('each step runs alone: the failure is reported once per failing spell', async (t) => {
  const failed: string[] = [];
  const m = new Maintenance(ingest.store, {
    partitionsAheadDays: 30, retentionDays: 0, plateRetentionDays: 30, partitionIntervalSec: 3600, rollupRefreshSec: 3600,
    locationRetentionDays: 30, auditRetentionDays: 30, logger: createLogger({ level: 'silent' }), onStepFailed: (s) => failed.push(s),
  });
  t.same(await m.runPartitions(), { created: 0, dropped: 0 });
  await m.runPartitions();
  t.same(failed, ['partitions'], 'reported once');
  t.same(Object.keys(m.failing()), ['partitions']);
  // Once the stray row is gone the step recovers.
  await ingest.store.query(`DELETE FROM telemetry_default WHERE edge = 'old'`);
  t.ok((await m.runPartitions()).created > 0);
  t.same(m.failing(), {});
});

t.test('an ingest stuck behind a locked cursor shows degraded with its oldest envelope age, the store up', async (t) => {
  await post(envelope('stuck', [telemetry('stuck', 1)]));
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('BEGIN');
  await locker.query(`SELECT * FROM edge_cursor WHERE edge = 'stuck' FOR UPDATE`);
  const pending = post(envelope('stuck', [telemetry('stuck', 2)]));
  const report = await waitFor(async () => {
    const r = await fetch(`${base}/health`);
    const body = await r.json() as { parts: { ingest: { state: string; reason?: string } } };
    return body.parts.ingest.state === 'degraded' ? body : null;
  }, { what: 'ingest degraded', timeoutMs: 10_000 });
  t.match(report, { parts: { ingest: { reason: /oldest envelope waiting \d+ s/ }, store: { state: 'up' } } });
  await locker.query('ROLLBACK');
  t.match(await (await pending).json(), { upTo: 2 });
  await waitFor(async () => ((await (await fetch(`${base}/health`)).json()) as { parts: { ingest: { state: string } } }).parts.ingest.state === 'up', { what: 'ingest up again' });
});
