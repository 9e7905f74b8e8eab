/**
 * The store contract: one suite, run against every Store backend (PostgreSQL and PGlite), so the
 * embedded store can stand in for the real one (after aedes-persistence's abstract tests).
 */
import type { Test } from 'tap';
import type { UplinkMessage } from '@safe-community/contracts';
import { prepareEnvelope, type IngestBatch, type Store } from '@safe-community/cloud-ingest';
import { alarm, envelope, event, mixed, range, SITE, status, telemetry } from './messages.js';

let n = 0;
const uniqueEdge = (): string => `edge-${process.pid}-${Date.now().toString(36)}-${n++}`;

function batchOf(edge: string, msgs: unknown[]): IngestBatch {
  const p = prepareEnvelope(JSON.stringify(envelope(edge, msgs)), 'test', edge);
  if (p.kind !== 'batch') throw new Error(`fixture envelope refused: ${p.record.reason}`);
  return p.batch;
}

/** Every seq stored for the edge in the tables that keep one, in seq order, repeats included. */
export async function storedSeqs(store: Store, edge: string): Promise<number[]> {
  const rows = await store.query<{ seq: string | number }>(
    `SELECT seq FROM (
       SELECT seq FROM events WHERE edge = $1 UNION ALL SELECT seq FROM telemetry WHERE edge = $1
       UNION ALL SELECT seq FROM command_results WHERE edge = $1 UNION ALL SELECT seq FROM linkage_executions WHERE edge = $1
       UNION ALL SELECT seq FROM dead_letters WHERE edge = $1 AND seq IS NOT NULL) s ORDER BY seq`, [edge]);
  return rows.map((r) => Number(r.seq));
}

export function storeContract(t: Test, makeStore: () => Promise<Store>): void {
  let store: Store;
  t.before(async () => {
    store = await makeStore();
  });

  t.test('a batch of every record type is written once and the cursor advances', async (t) => {
    const edge = uniqueEdge();
    const r = await store.writeBatch(batchOf(edge, mixed(edge, 1, 20)));
    t.equal(r.upTo, 20);
    t.equal(r.gap, false);
    t.same(r.written, { event: 4, telemetry: 8, status: 0, command_result: 4, alarm: 0, linkage: 4 });
    t.same(await storedSeqs(store, edge), range(1, 20));
    t.equal(await store.cursor(edge), 20);
    const ev = (await store.query<{ payload: { zone: number }; kind: string }>('SELECT kind, payload FROM events WHERE edge = $1 ORDER BY seq LIMIT 1', [edge]))[0];
    t.equal(ev?.kind, 'fire.alarm');
    t.equal(ev?.payload.zone, 3, 'payload stored as jsonb');
  });

  t.test('duplicates are skipped, an overlapping batch writes only its new records', async (t) => {
    const edge = uniqueEdge();
    await store.writeBatch(batchOf(edge, mixed(edge, 1, 10)));
    const again = await store.writeBatch(batchOf(edge, mixed(edge, 1, 10)));
    t.equal(again.duplicates, 10);
    t.equal(again.upTo, 10);
    const overlap = await store.writeBatch(batchOf(edge, mixed(edge, 6, 15)));
    t.equal(overlap.duplicates, 5);
    t.equal(overlap.upTo, 15);
    t.same(await storedSeqs(store, edge), range(1, 15), 'each seq exactly once');
  });

  t.test('a batch past a gap writes nothing and answers the current upTo', async (t) => {
    const edge = uniqueEdge();
    await store.writeBatch(batchOf(edge, mixed(edge, 1, 5)));
    const r = await store.writeBatch(batchOf(edge, mixed(edge, 7, 9)));
    t.equal(r.gap, true);
    t.equal(r.upTo, 5);
    t.equal(r.deferred, 3);
    t.same(await storedSeqs(store, edge), range(1, 5));
    const firstEver = await store.writeBatch(batchOf(uniqueEdge(), mixed('x', 3, 4)));
    t.equal(firstEver.gap, true, 'a new edge must start at seq 1');
  });

  t.test('a hole inside a batch: the run before it is written, the rest deferred', async (t) => {
    const edge = uniqueEdge();
    const r = await store.writeBatch(batchOf(edge, [telemetry(edge, 1), telemetry(edge, 2), telemetry(edge, 4), telemetry(edge, 5)]));
    t.equal(r.upTo, 2);
    t.equal(r.deferred, 2);
    t.same(await storedSeqs(store, edge), [1, 2]);
  });

  t.test('records out of order in an envelope are stored in seq order', async (t) => {
    const edge = uniqueEdge();
    const msgs = mixed(edge, 1, 8).reverse();
    const r = await store.writeBatch(batchOf(edge, msgs));
    t.equal(r.upTo, 8);
    const tel = await store.query<{ seq: string; value: number }>('SELECT seq, value FROM telemetry WHERE edge = $1 ORDER BY seq', [edge]);
    t.same(tel.map((x) => Number(x.seq)), [3, 4, 8]);
    t.same(tel.map((x) => x.value), [3, 4, 8]);
  });

  t.test('an invalid record is dead-lettered in its place; its neighbours are written', async (t) => {
    const edge = uniqueEdge();
    const bad = telemetry(edge, 2) as { data: Record<string, unknown> };
    bad.data.value = 'hot';
    const noSeq = { type: 'event', data: { nonsense: true } };
    const r = await store.writeBatch(batchOf(edge, [telemetry(edge, 1), bad, noSeq, telemetry(edge, 4)]));
    t.equal(r.upTo, 4);
    t.equal(r.deadLettered, 2);
    t.same(await storedSeqs(store, edge), [1, 2, 3, 4]);
    const dl = await store.query<{ seq: string; code: string; reason: string; payload: string }>(
      'SELECT seq, code, reason, payload FROM dead_letters WHERE edge = $1 ORDER BY seq', [edge]);
    t.same(dl.map((d) => [Number(d.seq), d.code]), [[2, 'ERR_VALIDATION'], [3, 'ERR_VALIDATION']]);
    t.match(dl[0]?.reason, /\/messages\/1\/data\/value/, 'reason names the path');
    t.match(dl[1]?.reason, /\/messages\/2/, 'a record without seq takes the seq its neighbours imply');
    t.match(dl[0]?.payload, /"hot"/);
  });

  t.test('a record the database refuses is dead-lettered, not retried forever', async (t) => {
    const edge = uniqueEdge();
    const impossible = telemetry(edge, 2) as { data: Record<string, unknown> };
    impossible.data.time = '2026-02-30T10:00:00Z'; // matches the schema's pattern, but no such day
    const r = await store.writeBatch(batchOf(edge, [event(edge, 1), impossible, event(edge, 3)]));
    t.equal(r.upTo, 3);
    t.equal(r.deadLettered, 1);
    t.same(await storedSeqs(store, edge), [1, 2, 3]);
    const dl = await store.query<{ code: string }>('SELECT code FROM dead_letters WHERE edge = $1', [edge]);
    t.same(dl.map((d) => d.code), ['ERR_STORE_REJECTED']);
  });

  t.test('alarms: one active per (site, device, type), repeats count up, resolve closes it', async (t) => {
    const edge = uniqueEdge();
    const dev = `D-${edge}`;
    await store.writeBatch(batchOf(edge, [
      alarm(edge, 1, dev, 'fire.alarm', { severity: 'major' }),
      alarm(edge, 2, dev, 'fire.alarm', { severity: 'critical' }),
      alarm(edge, 3, dev, 'door.forced'),
    ]));
    await store.writeBatch(batchOf(edge, [alarm(edge, 4, dev, 'fire.alarm', { severity: 'minor' })]));
    let rows = await store.query<{ type: string; count: number; severity: string; state: string }>(
      'SELECT type, count, severity, state FROM alarms WHERE device = $1 ORDER BY type, raised_at', [dev]);
    t.same(rows, [
      { type: 'door.forced', count: 1, severity: 'major', state: 'open' },
      { type: 'fire.alarm', count: 3, severity: 'critical', state: 'open' },
    ], 'repeats counted on the active alarm, highest severity kept');
    await store.writeBatch(batchOf(edge, [alarm(edge, 5, dev, 'fire.alarm', { state: 'resolved' }), alarm(edge, 6, dev, 'fire.alarm')]));
    rows = await store.query('SELECT type, count, severity, state FROM alarms WHERE device = $1 AND type = $2 ORDER BY raised_at', [dev, 'fire.alarm']);
    t.same(rows.map((r) => [r.state, r.count]), [['resolved', 3], ['open', 1]], 'after resolving, a new raise opens a new alarm');
  });

  t.test('device status: upserted, latest wins, an older replay does not overwrite', async (t) => {
    const edge = uniqueEdge();
    const dev = `G-${edge}`;
    await store.writeBatch(batchOf(edge, [status(edge, 1, dev, true), status(edge, 2, dev, false), status(edge, 3, `${dev}b`, true)]));
    let rows = await store.query<{ device: string; online: boolean }>('SELECT device, online FROM device_status WHERE site = $1 AND device LIKE $2 ORDER BY device', [SITE, `${dev}%`]);
    t.same(rows, [{ device: dev, online: false }, { device: `${dev}b`, online: true }]);
    await store.writeBatch(batchOf(edge, [status(edge, 4, dev, true, '2026-11-29T07:00:00.000Z')]));
    rows = await store.query('SELECT device, online FROM device_status WHERE site = $1 AND device = $2', [SITE, dev]);
    t.same(rows, [{ device: dev, online: false }], 'the older status was ignored');
    t.equal(await store.cursor(edge), 4, 'but its seq is accounted for');
  });

  t.test('the same batch written twice at once is stored once', async (t) => {
    const edge = uniqueEdge();
    const b = batchOf(edge, mixed(edge, 1, 50));
    const rs = await Promise.all([store.writeBatch(b), store.writeBatch(b), store.writeBatch(b)]);
    t.same(rs.map((r) => r.upTo), [50, 50, 50]);
    t.equal(rs.reduce((s, r) => s + r.duplicates, 0), 100, 'two of the three saw only duplicates');
    t.same(await storedSeqs(store, edge), range(1, 50));
  });

  t.test('a large telemetry batch (bulk path) is stored exactly', async (t) => {
    const edge = uniqueEdge();
    const msgs: UplinkMessage[] = range(1, 5000).map((s) => telemetry(edge, s, `S${s % 7}`, s / 10));
    (msgs[10] as { data: { unit?: string } }).data.unit = 'a\tb\\c';
    const r = await store.writeBatch(batchOf(edge, msgs));
    t.equal(r.written.telemetry, 5000);
    t.same(await storedSeqs(store, edge), range(1, 5000));
    const odd = await store.query<{ unit: string; value: number }>('SELECT unit, value FROM telemetry WHERE edge = $1 AND seq = 11', [edge]);
    t.same(odd, [{ unit: 'a\tb\\c', value: 1.1 }], 'text escaping survives');
  });

  t.test('a record claiming another site or edge than its envelope is dead-lettered in its place', async (t) => {
    const edge = uniqueEdge();
    const foreignSite = telemetry(edge, 2) as Extract<UplinkMessage, { type: 'telemetry' }>;
    foreignSite.data.site = 'site-of-someone-else';
    const foreignEdge = telemetry(edge, 3) as Extract<UplinkMessage, { type: 'telemetry' }>;
    foreignEdge.data.edge = 'another-edge';
    const r = await store.writeBatch(batchOf(edge, [telemetry(edge, 1), foreignSite, foreignEdge, telemetry(edge, 4)]));
    t.same([r.upTo, r.written.telemetry, r.deadLettered], [4, 2, 2], 'neighbours written, the two foreign records refused');
    const dl = await store.query<{ seq: string | number; reason: string }>('SELECT seq, reason FROM dead_letters WHERE edge = $1 ORDER BY seq', [edge]);
    t.match(dl.map((d) => d.reason), [/site-of-someone-else in an envelope of site/, /edge another-edge in an envelope of edge/]);
  });

  t.test('a wiped outbox (new epoch, seq restarts at 1) is stored after the old one, not skipped as resends', async (t) => {
    const edge = uniqueEdge();
    const inEpoch = (epoch: string | undefined, msgs: unknown[]): IngestBatch => {
      const env = { ...envelope(edge, msgs), ...(epoch ? { epoch } : {}) };
      const p = prepareEnvelope(JSON.stringify(env), 'test', edge);
      if (p.kind !== 'batch') throw new Error(`fixture envelope refused: ${p.record.reason}`);
      return p.batch;
    };
    t.equal((await store.writeBatch(inEpoch(undefined, mixed(edge, 1, 4)))).upTo, 4, 'an edge without epochs (older software)');
    const adopted = await store.writeBatch(inEpoch('epoch-a', mixed(edge, 5, 10)));
    t.same([adopted.upTo, adopted.epoch], [10, undefined], 'its first epoch is adopted, the numbering continues');
    const again = await store.writeBatch(inEpoch('epoch-a', mixed(edge, 9, 10)));
    t.equal(again.duplicates, 2, 'resends within the epoch are still duplicates');

    const wiped = await store.writeBatch(inEpoch('epoch-b', mixed(edge, 1, 6)));
    t.same([wiped.upTo, wiped.epoch, wiped.duplicates], [6, 'new', 0], 'a new epoch from seq 1: written, acked in its own numbering');
    t.equal(await store.cursor(edge), 6);
    t.same(await storedSeqs(store, edge), range(1, 16), 'stored after the old rows: 11..16');
    const resend = await store.writeBatch(inEpoch('epoch-b', mixed(edge, 1, 8)));
    t.same([resend.duplicates, resend.upTo], [6, 8], 'the new epoch dedupes as usual');

    const late = await store.writeBatch(inEpoch('epoch-a', mixed(edge, 11, 12)));
    t.same([late.epoch, late.upTo, late.deadLettered], ['stale', 8, 2], 'a late envelope of the old epoch is refused whole');
    const dl = await store.query<{ code: string; reason: string }>(`SELECT code, reason FROM dead_letters WHERE edge = $1 AND code = 'ERR_EPOCH_STALE'`, [edge]);
    t.equal(dl.length, 1, 'and recorded');
    t.match(dl[0]?.reason, /epoch-a.*epoch-b/);
    t.same(await storedSeqs(store, edge), range(1, 18), 'nothing of it written (old rows 1..10, the new epoch 11..18)');
  });

  t.test('unparseable input is recorded by deadLetter()', async (t) => {
    const p = prepareEnvelope(Buffer.from('{"v":1, nope'), 'mqtt:edges/x/uplink', 'x');
    t.equal(p.kind, 'dead');
    if (p.kind !== 'dead') return;
    const marker = `nope-${uniqueEdge()}`;
    await store.deadLetter([{ ...p.record, payload: marker }]);
    const dl = await store.query<{ code: string; source: string }>('SELECT code, source FROM dead_letters WHERE payload = $1', [marker]);
    t.same(dl, [{ code: 'ERR_NOT_JSON', source: 'mqtt:edges/x/uplink' }]);
  });

  t.test('health is ok while started', async (t) => {
    t.same(await store.health(), { ok: true });
  });
}
