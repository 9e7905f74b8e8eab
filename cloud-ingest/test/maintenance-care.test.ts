/**
 * Residents' positions past care.locationRetentionDays (issue 8 item 6), on PostgreSQL and PGlite: old
 * wearable.lat/lon telemetry deleted, positions and last-fix tags stripped from old care events and alarms,
 * lat/lon from old wearable events; everything newer, and every other row, left as it was. On TimescaleDB
 * (the suite's TimescaleDB pass) the same, from compressed chunks.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { compressAllChunks, expectedStore, freshDatabase } from '@safe-community/testkit';
import { createLogger } from '@safe-community/runtime';
import { Maintenance, PgStore, PgliteStore, loadConfig, type Store } from '@safe-community/cloud-ingest';

const logger = createLogger({ level: 'silent' });
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const FIX_TAGS = { resident: 'R1', last_lat: '22.543100', last_lon: '114.057100', last_fix_at: ago(40 * DAY) };

async function seed(store: Store): Promise<void> {
  const old = ago(40 * DAY);
  const recent = ago(DAY);
  await store.query(
    `INSERT INTO telemetry (edge, seq, site, device, metric, value, time) VALUES
      ('m', 1, 'site-1', 'W-1', 'wearable.lat', 22.5431, $1), ('m', 2, 'site-1', 'W-1', 'wearable.lon', 114.0571, $1),
      ('m', 3, 'site-1', 'W-1', 'wearable.lat', 22.5432, $2), ('m', 4, 'site-1', 'W-1', 'wearable.lon', 114.0572, $2),
      ('m', 5, 'site-1', 'W-1', 'wearable.heart_rate', 71, $1), ('m', 6, 'site-1', 'S1', 'temp.c', 21, $1)`, [old, recent]);
  const positions = JSON.stringify([{ at: old, lat: 22.5431, lon: 114.0571, inside: true }]);
  await store.query(
    `INSERT INTO events (edge, seq, id, site, device, kind, severity, time, tags, payload) VALUES
      ('m', 1, $3, 'site-1', 'W-1', 'care.fall', 'critical', $1, $4::jsonb, jsonb_build_object('resident', 'R1', 'positions', $5::jsonb, 'reason', 'fall')),
      ('m', 2, $6, 'site-1', 'W-1', 'care.fall', 'critical', $2, $4::jsonb, jsonb_build_object('resident', 'R1', 'positions', $5::jsonb)),
      ('m', 3, $7, 'site-1', 'W-1', 'wearable.sos', 'critical', $1, NULL, '{"lat": 22.5431, "lon": 114.0571, "button": 1}'),
      ('m', 4, $8, 'site-1', 'W-1', 'care.battery_low', 'minor', $1, '{"resident": "R1"}', '{"resident": "R1", "battery": 12}'),
      ('m', 5, $9, 'site-1', 'G1', 'door.forced', 'major', $1, '{"last_lat": "not care"}', '{"lat": 1}')`,
    [old, recent, randomUUID(), JSON.stringify(FIX_TAGS), positions, randomUUID(), randomUUID(), randomUUID(), randomUUID()]);
  await store.query(
    `INSERT INTO alarms (id, site, device, type, severity, state, raised_at, last_seen_at, message, tags) VALUES
      ($3, 'site-1', 'W-1', 'care.fall', 'critical', 'resolved', $1, $1, 'fall', $4::jsonb),
      ($5, 'site-1', 'W-1', 'care.wandering', 'major', 'open', $1, $2, 'wandering', $4::jsonb),
      ($6, 'site-1', 'G1', 'door.forced', 'major', 'resolved', $1, $1, 'door', '{"last_lat": "not care"}')`,
    [old, recent, randomUUID(), JSON.stringify(FIX_TAGS), randomUUID(), randomUUID()]);
}

async function check(t: Test, store: Store): Promise<void> {
  const m = new Maintenance(store, {
    partitionsAheadDays: 2, retentionDays: 0, plateRetentionDays: 0, partitionIntervalSec: 3600, rollupRefreshSec: 3600,
    locationRetentionDays: 30, logger,
  });
  await seed(store);
  if (store.timescale) {
    // On TimescaleDB the old rows sit in compressed chunks by the time retention reaches them.
    t.ok(await compressAllChunks(store.runner()) > 0, 'every chunk compressed before the scrub');
  }

  t.same(await m.scrubLocations(), { telemetry: 2, events: 2, alarms: 1 }, 'counts: two old fix rows, one care and one wearable event, one alarm');
  const tel = await store.query<{ seq: number; metric: string }>(`SELECT seq::int AS seq, metric FROM telemetry WHERE edge = 'm' ORDER BY seq`);
  t.same(tel.map((r) => r.seq), [3, 4, 5, 6], 'old positions gone; recent positions and other metrics stay');

  const ev = await store.query<{ seq: number; tags: Record<string, string> | null; payload: Record<string, unknown> }>(
    `SELECT seq::int AS seq, tags, payload FROM events WHERE edge = 'm' ORDER BY seq`);
  t.same(ev[0], { seq: 1, tags: { resident: 'R1' }, payload: { resident: 'R1', reason: 'fall', positions_removed: true } }, 'old care event: positions and last-fix tags removed');
  t.same(ev[1]!.tags, FIX_TAGS, 'recent care event kept whole');
  t.equal((ev[1]!.payload.positions as unknown[]).length, 1);
  t.same(ev[2]!.payload, { button: 1, position_removed: true }, 'old wearable event: lat/lon removed');
  t.same(ev[3], { seq: 4, tags: { resident: 'R1' }, payload: { resident: 'R1', battery: 12 } }, 'a care event without positions is untouched');
  t.same(ev[4]!.payload, { lat: 1 }, 'other kinds are not care data');

  const al = await store.query<{ type: string; tags: Record<string, string> }>(`SELECT type, tags FROM alarms ORDER BY type`);
  t.same(al.map((a) => [a.type, a.tags]), [
    ['care.fall', { resident: 'R1' }],
    ['care.wandering', FIX_TAGS],
    ['door.forced', { last_lat: 'not care' }],
  ], 'an old care alarm loses its last fix; one still seen within retention keeps it');

  t.same(await m.scrubLocations(), { telemetry: 0, events: 0, alarms: 0 }, 'a second round has nothing to do');
  t.same(await new Maintenance(store, { partitionsAheadDays: 2, retentionDays: 0, plateRetentionDays: 0, partitionIntervalSec: 3600, rollupRefreshSec: 3600, logger }).scrubLocations(),
    { telemetry: 0, events: 0, alarms: 0 }, 'without the setting nothing is removed');

  // Through the timer round, as the service runs it.
  await store.query(`INSERT INTO telemetry (edge, seq, site, device, metric, value, time) VALUES ('m', 7, 'site-1', 'W-1', 'wearable.lat', 1, $1)`, [ago(31 * DAY)]);
  await m.runPartitions();
  t.same((await store.query(`SELECT 1 FROM telemetry WHERE edge = 'm' AND seq = 7`)).length, 0, 'runPartitions applies the location retention');
}

t.test('config: care.locationRetentionDays, 30 by default, 0 keeps', async (t) => {
  t.equal(loadConfig({}).care.locationRetentionDays, 30);
  t.equal(loadConfig({ care: { locationRetentionDays: 0 } }).care.locationRetentionDays, 0);
  t.throws(() => loadConfig({ care: { locationRetentionDays: -1 } }), { code: 'ERR_CONFIG', message: /care\.locationRetentionDays/ });
  t.throws(() => loadConfig({ care: { locationDays: 3 } }), { code: 'ERR_CONFIG', message: /unknown key care\.locationDays/ });
});

t.test('PostgreSQL', async (t) => {
  const db = await freshDatabase('care_maint');
  const store = new PgStore({ url: db.url, logger });
  await store.start();
  t.teardown(async () => { await store.stop(); await db.drop(); });
  t.equal(store.timescale, await expectedStore() === 'timescale', 'the store variant the server offers');
  await check(t, store);
});

t.test('PGlite', async (t) => {
  const store = new PgliteStore({ logger });
  await store.start();
  t.teardown(() => store.stop());
  await check(t, store);
});
