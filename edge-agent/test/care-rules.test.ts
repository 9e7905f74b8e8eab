import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dayResidents } from '@safe-community/simulators';
import { deviceMetrics, loadProfiles } from '@safe-community/firmware-configs';
import {
  CARE_METRICS, DailyWindow, ResidentTracker, distanceToEdgeM, insidePolygon, loadResidents, parseResidents, stepVital, stableUuid, type CareOutput,
} from '../src/care/index.js';
import { freshResidentState, type VitalState } from '../src/care/state.js';
import { CareStateFile } from '../src/care/state.js';
import { logger } from './care-rig.js';

const file = parseResidents(dayResidents());
const R1 = file.residents[0]!;
const TZ = 'Asia/Shanghai';
const local = (hhmm: string): number => Date.parse(`2026-11-30T${hhmm}:00+08:00`);
const MIN = 60_000;

function tracker(overrides: Partial<typeof R1> = {}, now = local('06:00')): ResidentTracker {
  const r = { ...structuredClone(R1), ...overrides };
  return new ResidentTracker(r, freshResidentState(now), {
    quiet: new DailyWindow(r.quietHours.start, r.quietHours.end, TZ), episodeGapMs: 30 * MIN, wanderCrossings: 4, wanderWindowMs: 60 * MIN,
  });
}
const kinds = (outs: CareOutput[]): string[] => outs.map((o) => o.kind);

t.test('residents: defaults filled, bad records refused with a reason', async (t) => {
  t.equal(file.residents.length, 5);
  t.equal(R1.vitals.heartRate.high, 120);
  const minimal = parseResidents({ version: 1, residents: [{ ...structuredClone(dayResidents().residents as object[])[0] as object, vitals: undefined, inactivityHours: undefined }] });
  t.equal(minimal.timeZone, 'UTC', 'zone defaults to UTC');
  t.equal(minimal.residents[0]?.inactivityHours, 3, 'inactivity defaults to 3 h');
  t.equal(minimal.residents[0]?.vitals.spo2.low, 90, 'SpO2 limits default');
  t.ok(Object.isFrozen(minimal.residents[0]), 'frozen');
  const base = dayResidents() as { residents: Array<Record<string, unknown>> };
  t.throws(() => parseResidents({ ...base, residents: [{ ...base.residents[0], shoeSize: 42 }] }), { code: 'ERR_CONFIG', message: /unknown key residents\.0\.shoeSize/ });
  t.throws(() => parseResidents({ ...base, residents: [base.residents[0], { ...base.residents[1], wearable: 'W-101' }] }), { code: 'ERR_CARE_RESIDENTS', message: /W-101 is assigned to two residents/ });
  t.throws(() => parseResidents({ ...base, residents: [{ ...base.residents[0], consent: { givenAt: 'yesterday', givenBy: 'x', scope: ['alerts'] } }] }), { code: 'ERR_CONFIG', message: /consent\.givenAt/ });
  t.throws(() => parseResidents({ ...base, residents: [{ ...base.residents[0], geofence: { polygon: [{ lat: 1, lon: 1 }] } }] }), { code: 'ERR_CONFIG', message: /geofence\.polygon/ });
  t.throws(() => parseResidents({ ...base, timeZone: 'Mars/Olympus' }), { code: 'ERR_CARE_RESIDENTS', message: /time zone/ });
  t.throws(() => parseResidents({ ...base, residents: [{ ...base.residents[0], vitals: { heartRate: { low: 100, high: 110, hysteresis: 10 } } }] }), { code: 'ERR_CARE_RESIDENTS', message: /no normal band/ });

  const dir = await mkdtemp(join(tmpdir(), 'residents-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'r.yaml'), 'version: 1\ntimeZone: Asia/Shanghai\nresidents: []\n');
  t.equal((await loadResidents(join(dir, 'r.yaml'))).timeZone, 'Asia/Shanghai', 'YAML file');
  const example = await loadResidents(new URL('../src/care/residents.example.yaml', import.meta.url).pathname);
  t.equal(example.residents[0]?.wearable, 'W-1702', 'the shipped example loads');
  await writeFile(join(dir, 'bad.json'), '{ nope');
  await t.rejects(loadResidents(join(dir, 'bad.json')), { code: 'ERR_CARE_RESIDENTS', message: /not valid JSON/ });
  await t.rejects(loadResidents(join(dir, 'missing.json')), { code: 'ERR_CARE_RESIDENTS' });
});

t.test('quiet hours wrap midnight; daytime inactivity skips the night', async (t) => {
  const w = new DailyWindow('22:00', '07:00', TZ);
  t.ok(w.contains(local('23:30')));
  t.ok(w.contains(local('06:59')));
  t.notOk(w.contains(local('07:00')));
  t.notOk(w.contains(local('12:00')));
  t.equal(w.nextStart(local('12:00')), local('22:00'));
  t.equal(w.afterOutside(local('20:00'), 3 * 60 * MIN), local('08:00') + 24 * 60 * MIN, 'two hours before the night, one after it');
  t.equal(w.afterOutside(local('12:00') + 30_000, 90 * MIN), local('13:30') + 30_000, 'not rounded to minutes');
});

t.test('geofence: inside and outside a polygon', async (t) => {
  const sq = [{ lat: 0, lon: 0 }, { lat: 0, lon: 1 }, { lat: 1, lon: 1 }, { lat: 1, lon: 0 }];
  t.ok(insidePolygon({ lat: 0.5, lon: 0.5 }, sq));
  t.notOk(insidePolygon({ lat: 1.5, lon: 0.5 }, sq));
  t.notOk(insidePolygon({ lat: 0.5, lon: -0.1 }, sq));
  const home = R1.geofence.polygon;
  const north = home[2]!.lat;
  t.ok(Math.abs(distanceToEdgeM({ lat: north + 0.0001, lon: 114.0579 }, home) - 11.1) < 0.2, '0.0001° of latitude past the north edge ≈ 11 m');
});

t.test('the rules read the metric names the wearable profiles send', async (t) => {
  const sent = deviceMetrics((await loadProfiles()).values());
  for (const m of Object.values(CARE_METRICS)) t.ok(sent.includes(m), `${m} is sent by a wearable profile`);
  const tr = tracker({}, local('10:00'));
  t.same(kinds(tr.onTelemetry('battery', 5, 'a', local('10:00'))), [], 'a bare name is not a wearable metric');
  t.same(kinds(tr.onTelemetry('env_sensor.battery', 5, 'b', local('10:01'))), [], "nor is another kind's battery");
  t.same(kinds(tr.onTelemetry('wearable.battery', 5, 'c', local('10:02'))), ['care.battery_low']);
});

t.test('geofence dead band: jitter at the fence line is not wandering', async (t) => {
  const t0 = local('23:00');
  const tr = tracker({ heartbeatIntervalS: 3600 }, t0);
  const north = R1.geofence.polygon[2]!.lat;
  const fix = (lat: number, at: number) => kinds([...tr.onTelemetry('wearable.lat', lat, String(at), at), ...tr.onTelemetry('wearable.lon', 114.0579, String(at), at)]);
  const jitter = [north - 0.00005, north + 0.00005, north - 0.00005, north + 0.00008, north - 0.00005].flatMap((lat, i) => fix(lat, t0 + i * MIN));
  t.same(jitter, [], 'fixes within 15 m of the fence, at night, raise nothing');
  t.equal(tr.state.crossings.length, 0);
  t.same(fix(north + 0.0003, t0 + 10 * MIN), ['care.wandering'], '33 m out at night does');
});

t.test('vitals: minimum duration and hysteresis, no flapping', async (t) => {
  const lim = { low: 45, high: 120, hysteresis: 10, minDurationS: 300 };
  const s: VitalState = { level: 'normal' };
  const feed = (pairs: Array<[number, number]>) => pairs.map(([min, v]) => stepVital(s, v, min * MIN, lim).kind);
  t.same(feed([[0, 130], [2, 80], [4, 130], [6, 125]]), ['none', 'none', 'none', 'none'], 'a spike, then a new excursion still too short');
  t.same(feed([[9, 130]]), ['raise'], 'out for five minutes since minute 4');
  t.same(feed([[10, 119], [11, 121], [12, 112], [13, 125]]), ['none', 'none', 'none', 'none'], 'hovering near the limit neither clears nor re-raises');
  t.same(feed([[14, 110]]), ['clear'], 'clears only at high − hysteresis');
  t.same(feed([[15, 40], [21, 40]]), ['none', 'raise'], 'low side too');
});

t.test('fall: alarm after the window, cancelled by I\'m OK, repeat reports merged', async (t) => {
  const t0 = local('10:00');
  const tr = tracker({}, t0);
  t.same(kinds(tr.onEvent('wearable.fall', { lat: 22.5431, lon: 114.0579 }, undefined, t0)), []);
  t.equal(tr.nextDeadline(t0), t0 + 60_000, 'the clock must come back when the window ends');
  t.same(kinds(tr.onEvent('wearable.fall', {}, undefined, t0 + 5_000)), [], 'a re-sent fall is the same fall');
  t.same(kinds(tr.check(t0 + 59_000)), []);
  t.same(kinds(tr.check(t0 + 60_000)), ['care.fall']);
  t.same(kinds(tr.check(t0 + 61_000)), [], 'once');

  const tr2 = tracker({}, t0);
  tr2.onEvent('wearable.fall', {}, undefined, t0);
  t.same(kinds(tr2.onEvent('wearable.ok', {}, undefined, t0 + 20_000)), ['care.fall_cancelled']);
  t.same(kinds(tr2.check(t0 + 120_000)), [], 'no alarm after a cancel');
});

t.test('SOS: critical at once; a second press within minutes is the same call; episodes group alarms', async (t) => {
  const t0 = local('09:00');
  const tr = tracker({}, t0);
  const [sos] = tr.onEvent('wearable.sos', {}, '2026-11-30T01:00:00.000Z', t0);
  t.equal(sos?.kind, 'care.sos');
  t.equal(sos?.severity, 'critical');
  t.same(kinds(tr.onEvent('wearable.sos', {}, undefined, t0 + 60_000)), []);
  tr.onEvent('wearable.fall', {}, undefined, t0 + 2 * MIN);
  const [fall] = tr.check(t0 + 3 * MIN);
  t.equal(fall?.episode?.id, sos?.episode?.id, 'SOS and fall minutes apart share one episode');
  const [later] = tr.onEvent('wearable.sos', {}, undefined, t0 + 3 * 60 * MIN);
  t.not(later?.episode?.id, sos?.episode?.id, 'hours later is a new episode');
});

t.test('wandering: crossings within the window in daytime, latched until settled', async (t) => {
  const t0 = local('10:00');
  const tr = tracker({ heartbeatIntervalS: 3600 }, t0);
  const home = { lat: 22.5431, lon: 114.0579 };
  const out = { lat: 22.5461, lon: 114.0579 };
  const fix = (p: typeof home, at: number) => [...tr.onTelemetry('wearable.lat', p.lat, String(at), at), ...tr.onTelemetry('wearable.lon', p.lon, String(at), at)];
  const seen = [home, out, home, out, home, out, home].flatMap((p, i) => kinds(fix(p, t0 + i * 5 * MIN)));
  t.same(seen, ['care.wandering'], 'four crossings raise one alarm; more crossings do not repeat it');
  t.same(kinds(tr.check(t0 + 30 * MIN + 59 * MIN)), [], 'not settled within the window');
  t.same(kinds(tr.check(t0 + 30 * MIN + 60 * MIN)), ['care.wandering_ended']);
});

t.test('battery and silence: maintenance alarms, re-armed only by recovery', async (t) => {
  const tr = tracker({}, local('10:00'));
  const t0 = local('10:00');
  t.same(kinds(tr.onTelemetry('wearable.battery', 19, 'a', t0)), ['care.battery_low']);
  t.same(kinds(tr.onTelemetry('wearable.battery', 22, 'b', t0 + MIN)), [], 'hovering does not re-raise');
  tr.onTelemetry('wearable.battery', 35, 'c', t0 + 2 * MIN);
  t.same(kinds(tr.onTelemetry('wearable.battery', 18, 'd', t0 + 3 * MIN)), ['care.battery_low'], 'after a charge, low again is a new alarm');
  const silentAt = t0 + 3 * MIN + 30 * MIN;
  t.equal(tr.nextDeadline(t0 + 3 * MIN), silentAt, 'three missed 10-minute heartbeats');
  t.same(kinds(tr.check(silentAt)), ['care.device_silent']);
  t.same(kinds(tr.check(silentAt + 60 * MIN)), [], 'once');
  t.same(kinds(tr.onTelemetry('wearable.heart_rate', 70, 'e', silentAt + 61 * MIN)), ['care.device_back']);
});

t.test('ids derive from the occurrence; the state file survives corruption', async (t) => {
  t.equal(stableUuid('S1', 'E1', 'R1', 'care.sos@x'), stableUuid('S1', 'E1', 'R1', 'care.sos@x'));
  t.not(stableUuid('S1', 'E1', 'R1', 'care.sos@x'), stableUuid('S1', 'E1', 'R1', 'care.sos@y'));
  t.match(stableUuid('a'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  const dir = await mkdtemp(join(tmpdir(), 'care-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.json');
  const store = new CareStateFile(path, logger);
  t.same(await store.load(), { version: 1, residents: {} }, 'no file: empty state');
  await store.save({ version: 1, residents: { R1: freshResidentState(5) } });
  t.equal((await store.load()).residents.R1?.lastSeenAt, 5);
  t.same((await readdir(dir)).sort(), ['state.json'], 'no temp file left behind');
  await writeFile(path, '{"version":1,"resid');
  t.same(await store.load(), { version: 1, residents: {} }, 'corrupt: fresh start');
  const files = await readdir(dir);
  t.ok(files.some((f) => f.startsWith('state.json.corrupt-')), 'the corrupt file is kept aside');
  t.equal(await readFile(join(dir, files.find((f) => f.startsWith('state.json.corrupt-'))!), 'utf8'), '{"version":1,"resid');
});

t.test('consent scope: only what the resident agreed to is watched; SOS always', async (t) => {
  const t0 = local('23:00');
  const consent = { ...R1.consent, scope: ['alerts'] as Array<'alerts'> };
  const tr = tracker({ consent, heartbeatIntervalS: 86_400, inactivityHours: 0.25 }, t0);
  const out = { lat: 22.5461, lon: 114.0579 };
  const seen = [
    ...tr.onTelemetry('wearable.lat', out.lat, 'a', t0), ...tr.onTelemetry('wearable.lon', out.lon, 'a', t0),
    ...tr.onTelemetry('wearable.heart_rate', 160, 'b', t0 + MIN), ...tr.onTelemetry('wearable.heart_rate', 160, 'c', t0 + 20 * MIN),
    // A morning heartbeat long after the last step: an inactivity alarm if activity were in scope.
    ...tr.onTelemetry('wearable.battery', 80, 'd', local('07:40') + 24 * 60 * MIN),
  ];
  t.same(kinds(seen), [], 'no location, vitals or activity rules without consent');
  t.same(tr.state.positions, [], 'and no positions kept');
  const [sos] = tr.onEvent('wearable.sos', { lat: out.lat, lon: out.lon }, undefined, t0 + 30 * MIN);
  t.equal(sos?.kind, 'care.sos');
  t.same(tr.state.positions, [], 'the SOS position is not kept either');
});
