/**
 * Envelope v2's columnar telemetry block on the real HTTP ingest and PostgreSQL: what the v1 schema refuses
 * is refused in a block too. A malformed block (columns of unequal length, arrays past the limit, unknown
 * columns) refuses the envelope and stores nothing; a bad reading (NUL in a string, an index out of range,
 * a value that is not a number) is dead-lettered alone under its seq and the rest are stored; a block
 * cannot speak for another edge, and an edge cannot write readings of a device another edge owns.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { TelemetrySeries } from '@safe-community/contracts';
import { basic, count, fireEvent, postEnvelope, startIngest } from './fixtures/ingest.js';

const ingest = await startIngest(t, 'sec_series');
const secretA = await ingest.edges.issue('edge-a1', 'site-a');
const secretB = await ingest.edges.issue('edge-b1', 'site-b');
const authA = basic('edge-a1', secretA);
const now = (): string => new Date().toISOString();

/** A block of n readings from seq `from`, devices D0..D2, one metric, one unit. */
function block(from: number, n: number): TelemetrySeries {
  const s: TelemetrySeries = { seq: [], devices: ['D0', 'D1', 'D2'], device: [], metrics: ['temp.c'], metric: [], units: ['C'], unit: [], value: [], time: [] };
  for (let i = 0; i < n; i++) {
    s.seq.push(from + i);
    s.device.push(i % 3);
    s.metric.push(0);
    s.unit.push(i % 2 === 0 ? 0 : -1);
    s.value.push(20 + i / 10);
    s.time.push(now());
  }
  return s;
}

const v2 = (edge: string, site: string, series: unknown, messages: unknown[] = []): unknown => ({ v: 2, edge, site, sentAt: now(), messages, series });
const telemetryRows = (): Promise<number> => count(ingest, "SELECT count(*) FROM telemetry WHERE edge = 'edge-a1'");
const cursorA = async (): Promise<number> => count(ingest, "SELECT coalesce((SELECT last_seq FROM edge_cursor WHERE edge = 'edge-a1'), 0)");

t.test('a v2 envelope stores its readings and its other messages, in one sequence', async (t) => {
  const r = await postEnvelope(ingest, v2('edge-a1', 'site-a', block(2, 5), [fireEvent('edge-a1', 'site-a', 1, randomUUID())]), authA);
  t.equal(r.status, 200);
  t.match(await r.json(), { upTo: 6, deadLettered: 0, rejected: [] });
  t.equal(await telemetryRows(), 5);
  t.equal(await count(ingest, "SELECT count(*) FROM telemetry WHERE edge = 'edge-a1' AND unit IS NULL"), 2, 'unit index -1 stores no unit');
  t.equal(await count(ingest, "SELECT count(*) FROM events WHERE edge = 'edge-a1'"), 1);
  const again = await postEnvelope(ingest, v2('edge-a1', 'site-a', block(2, 5), [fireEvent('edge-a1', 'site-a', 1, randomUUID())]), authA);
  t.match(await again.json(), { upTo: 6, duplicates: 6 }, 'a resend is a duplicate, nothing doubled');
  t.equal(await telemetryRows(), 5);
});

t.test('a bad reading is dead-lettered alone under its seq; the rest are stored', async (t) => {
  const s = block(7, 6);
  s.units.push('C\u0000'); // NUL: PostgreSQL text cannot hold it
  s.unit[0] = 1;
  s.device[1] = 99; // index out of range
  (s.value as unknown[])[2] = 'hot'; // not a number
  s.metrics.push('Bad Metric');
  s.metric[3] = 1; // a dictionary entry the v1 pattern refuses
  s.time[4] = 'yesterday';
  const before = await telemetryRows();
  const r = await postEnvelope(ingest, v2('edge-a1', 'site-a', s), authA);
  t.equal(r.status, 200);
  const body = (await r.json()) as { upTo: number; rejected: Array<{ seq: number; code: string; reason: string }> };
  t.equal(body.upTo, 12, 'the cursor moves past the refused readings');
  t.same(body.rejected.map((x) => x.seq), [7, 8, 9, 10, 11]);
  t.match(body.rejected[0]!.reason, /NUL/);
  t.match(body.rejected[1]!.reason, /index 99/);
  t.equal(await telemetryRows(), before + 1, 'only the good reading stored');
  t.equal(await count(ingest, "SELECT count(*) FROM dead_letters WHERE edge = 'edge-a1' AND code = 'ERR_VALIDATION' AND seq BETWEEN 7 AND 11"), 5);
  t.equal(await count(ingest, "SELECT count(*) FROM dead_letters WHERE edge = 'edge-a1' AND seq = 7 AND strpos(payload, 'C\\u0000') > 0"), 1, 'the NUL is stored escaped');
});

t.test('a malformed block refuses the whole envelope and stores nothing', async (t) => {
  const cases: Array<[string, (s: TelemetrySeries) => unknown]> = [
    ['columns of unequal length', (s) => ({ ...s, value: s.value.slice(1) })],
    ['a column past 10,000 items', (s) => ({ ...s, time: Array.from({ length: 10_001 }, now) })],
    ['a huge dictionary', (s) => ({ ...s, devices: Array.from({ length: 10_001 }, (_, i) => `D${i}`) })],
    ['a column missing', (s) => ({ ...s, time: undefined })],
    ['a column that is not an array', (s) => ({ ...s, seq: { 0: 13 } })],
    ['an unknown column', (s) => ({ ...s, site: ['site-b', 'site-b'] })],
    ['a seq that is not a seq', (s) => ({ ...s, seq: [13, -1] })],
    ['not an object', () => [1, 2, 3]],
  ];
  for (const [name, mangle] of cases) {
    const before = { rows: await telemetryRows(), cursor: await cursorA() };
    const r = await postEnvelope(ingest, v2('edge-a1', 'site-a', mangle(block(13, 2))), authA);
    t.equal(r.status, 400, name);
    t.match(await r.json(), { code: 'ERR_VALIDATION' }, name);
    t.same({ rows: await telemetryRows(), cursor: await cursorA() }, before, `${name}: nothing stored, cursor unchanged`);
  }
  const empty = await postEnvelope(ingest, { v: 2, edge: 'edge-a1', site: 'site-a', sentAt: now(), messages: [] }, authA);
  t.equal(empty.status, 400, 'a v2 envelope with no record at all');
  const tooMany = await postEnvelope(ingest, v2('edge-a1', 'site-a', block(14, 10_000), [fireEvent('edge-a1', 'site-a', 13, randomUUID())]), authA);
  t.equal(tooMany.status, 400, 'messages and readings together past 10,000');
  const v3 = await postEnvelope(ingest, { ...(v2('edge-a1', 'site-a', block(13, 2)) as object), v: 3 }, authA);
  t.equal(v3.status, 400, 'an unknown version');
});

t.test("a block cannot speak for another edge or another edge's device", async (t) => {
  const forged = await postEnvelope(ingest, v2('edge-b1', 'site-b', block(1, 3)), authA);
  t.equal(forged.status, 403, "edge-a1's credentials, edge-b1's envelope");
  t.equal(await count(ingest, "SELECT count(*) FROM telemetry WHERE edge = 'edge-b1'"), 0);
  // edge-b1 claims its device first; edge-a1 then sends readings naming a device of the same name in its own site only.
  const own = await postEnvelope(ingest, v2('edge-b1', 'site-b', block(1, 3)), basic('edge-b1', secretB));
  t.equal(own.status, 200);
  t.equal(await count(ingest, "SELECT count(*) FROM telemetry WHERE edge = 'edge-b1' AND site = 'site-b'"), 3, 'readings carry the envelope site');
  const otherSite = await postEnvelope(ingest, v2('edge-a1', 'site-b', block(13, 1)), authA);
  t.equal(otherSite.status, 403, 'an envelope of another site');
  await ingest.store.query("UPDATE device_owners SET edge = 'edge-b1' WHERE site = 'site-a' AND device = 'D0'");
  const r = await postEnvelope(ingest, v2('edge-a1', 'site-a', block(13, 3)), authA);
  const body = (await r.json()) as { upTo: number; rejected: Array<{ seq: number; code: string }> };
  t.same(body.rejected.map((x) => [x.seq, x.code]), [[13, 'ERR_DEVICE_NOT_OWNED']], "the reading of edge-b1's device is refused alone");
  t.equal(body.upTo, 15);
});
