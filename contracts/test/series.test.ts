/** Envelope v2's columnar telemetry block: shape checks, per-reading checks, and the v1 schema's bounds kept. */
import t from 'tap';
import { ENVELOPE_V2, envelopeRecords, expandSeries, seriesShapeIssues, validators, type EnvelopeV2, type TelemetrySeries } from '../src/index.js';

const T = '2026-11-29T10:00:00.000Z';
const block = (): TelemetrySeries => ({
  seq: [3, 5], devices: ['S1', 'S2'], device: [0, 1], metrics: ['temp.c'], metric: [0, 0], units: ['C'], unit: [0, -1], value: [21.5, -3], time: [T, T],
});

t.test('a block expands into the telemetry messages it stands for, with the envelope site and edge', async (t) => {
  t.same(seriesShapeIssues(block()), []);
  const rows = expandSeries(block(), 'site-1', 'edge-1');
  t.same(rows, [
    { seq: 3, ok: true, msg: { seq: 3, type: 'telemetry', data: { site: 'site-1', edge: 'edge-1', device: 'S1', metric: 'temp.c', value: 21.5, unit: 'C', time: T } } },
    { seq: 5, ok: true, msg: { seq: 5, type: 'telemetry', data: { site: 'site-1', edge: 'edge-1', device: 'S2', metric: 'temp.c', value: -3, time: T } } },
  ]);
  for (const r of rows) if (r.ok) t.ok(validators.telemetry.check(r.msg.data), 'each expanded reading passes the v1 Telemetry schema');
});

t.test('the envelope validator takes v1 and v2; envelopeRecords merges both in seq order', async (t) => {
  const event = { seq: 4, type: 'status' as const, data: { site: 'site-1', edge: 'edge-1', device: 'S1', online: true, at: T } };
  const env: EnvelopeV2 = { v: ENVELOPE_V2, edge: 'edge-1', site: 'site-1', sentAt: T, messages: [event], series: block() };
  t.ok(validators.envelope.check(env));
  t.same(envelopeRecords(env).map((m) => [m.seq, m.type]), [[3, 'telemetry'], [4, 'status'], [5, 'telemetry']]);
  t.notOk(validators.envelope.check({ ...env, series: { ...block(), extra: [] } }), 'unknown column');
  t.notOk(validators.envelope.check({ ...env, v: 1 }), 'a v1 envelope has no series');
});

t.test('shape: columns of unequal length, missing, too long, unknown, or an unusable seq refuse the block', async (t) => {
  const b = block();
  t.match(seriesShapeIssues({ ...b, value: [1] }), [{ path: '/series/value', reason: /1 items, seq has 2/ }]);
  t.match(seriesShapeIssues({ ...b, time: undefined }), [{ path: '/series/time', reason: /not an array/ }]);
  t.match(seriesShapeIssues({ ...b, devices: new Array(10_001).fill('S') }), [{ path: '/series/devices', reason: /10001 items exceeds 10000/ }]);
  t.match(seriesShapeIssues({ ...b, site: ['x'] }), [{ path: '/series/site', reason: 'unknown column' }]);
  t.match(seriesShapeIssues({ ...b, seq: [3, 0] }), [{ path: '/series/seq/1' }]);
  t.match(seriesShapeIssues({ ...b, seq: [3, 2 ** 60] }), [{ path: '/series/seq/1' }]);
  t.match(seriesShapeIssues(null), [{ path: '/series', reason: 'not an object' }]);
  t.match(seriesShapeIssues([]), [{ path: '/series' }]);
});

t.test('a bad reading is refused alone, with what the v1 schema would say', async (t) => {
  const cases: Array<[string, (b: TelemetrySeries) => void, RegExp]> = [
    ['device index out of range', (b) => { b.device[0] = 2; }, /index 2 is not in devices/],
    ['device index not an integer', (b) => { b.device[0] = 0.5; }, /index 0.5/],
    ['device id the Id pattern refuses', (b) => { b.devices[0] = '-bad'; }, /not an id/],
    ['device id with NUL', (b) => { b.devices[0] = 'S\u0000'; }, /not an id/],
    ['metric the pattern refuses', (b) => { b.metrics[0] = 'Temp'; }, /not a metric name/],
    ['unit with NUL', (b) => { b.units[0] = 'C\u0000'; }, /NUL/],
    ['unit too long', (b) => { b.units[0] = 'x'.repeat(17); }, /longer than 16/],
    ['unit index below -1', (b) => { b.unit[0] = -2; }, /index -2/],
    ['value a string', (b) => { (b.value as unknown[])[0] = '21'; }, /finite number/],
    ['value null', (b) => { (b.value as unknown[])[0] = null; }, /finite number/],
    ['time without zone', (b) => { b.time[0] = '2026-11-29T10:00:00'; }, /ISO-8601/],
    ['time not a string', (b) => { (b.time as unknown[])[0] = 1764410400000; }, /ISO-8601/],
  ];
  for (const [name, mangle, reason] of cases) {
    const b = block();
    mangle(b);
    const rows = expandSeries(b, 'site-1', 'edge-1');
    t.equal(rows[0]!.ok, false, name);
    if (!rows[0]!.ok) t.match(rows[0]!.issues[0]!.reason, reason, name);
    t.equal(rows[0]!.seq, 3, `${name}: refused under its own seq`);
    // The second reading shares the metric dictionary, so a bad metric refuses it too; anything else leaves it stored.
    if (!/metric/.test(name)) t.equal(rows[1]!.ok, true, `${name}: the other reading stands`);
  }
});
