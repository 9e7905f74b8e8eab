/**
 * Residents' positions outside the location-history route (issue 8), on PostgreSQL and on PGlite: for a
 * caller who is neither an admin nor in the wearable's resident's guard team, wearable.lat/lon telemetry is
 * left out (and paging stays right), care and wearable events and alarms come back without their positions
 * and with tags.location_hidden = 'true', and everything else about them is unchanged. The resident's team
 * and admins see everything; other metrics and non-care events are untouched.
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { UplinkMessage } from '@safe-community/contracts';
import { harness, ADMIN_TOKEN, iso, telemetryMsg, type Harness } from './api-harness.js';
import { careResident, careTeamUsers, createUser } from './helpers/care.js';

const HOUR = 3_600_000;

const event = (device: string, kind: string, time: string, tags: Record<string, string>, payload: Record<string, unknown>): Omit<UplinkMessage, 'seq'> =>
  ({ type: 'event', data: { id: randomUUID(), site: 'site-a', edge: 'edge-a', device, kind, severity: 'major', edgeTime: time, tags, payload } }) as Omit<UplinkMessage, 'seq'>;

const FIX = { last_lat: '22.543500', last_lon: '114.057500', last_fix_at: iso(-HOUR) };
const POSITIONS = [{ at: iso(-2 * HOUR), lat: 22.5431, lon: 114.0571, inside: true }, { at: iso(-HOUR), lat: 22.5435, lon: 114.0575, inside: false }];

async function locationScopeSuite(t: Test, backend: 'pg' | 'pglite'): Promise<void> {
  const h: Harness = await harness({ backend });
  t.teardown(() => h.close());

  const { team1, team2, noTeam, viewer1, otherSite: siteB } = await careTeamUsers(h);
  const adminA = await createUser(h, 'admin-a', 'admin', ['site-a']);

  const saved = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, {
    version: 1, timeZone: 'Asia/Shanghai', residents: [careResident('R1', 'W-1', 'team-1', ['alerts', 'location']), careResident('R2', 'W-2', 'team-2', ['alerts', 'location'])],
  });
  t.equal(saved.status, 200, 'residents enrolled');

  // Fixes of R1 (W-1, team-1), R2 (W-2, team-2), a wearable enrolled with nobody (W-9), and W-1's id at another
  // site (no resident there); other metrics of the wearable and of a sensor.
  const at = (hours: number) => iso(-hours * HOUR);
  const fix = (device: string, hoursAgo: number, lat: number, lon: number, site = 'site-a', edge = 'edge-a') => [
    telemetryMsg(site, edge, device, 'wearable.lat', lat, at(hoursAgo)),
    telemetryMsg(site, edge, device, 'wearable.lon', lon, at(hoursAgo)),
  ];
  await h.ingest('edge-a', 'site-a', [
    ...fix('W-1', 1, 22.5431, 114.0571), ...fix('W-1', 2, 22.5432, 114.0572),
    ...fix('W-2', 1.5, 22.11, 114.11), ...fix('W-9', 2.5, 22.99, 114.99),
    telemetryMsg('site-a', 'edge-a', 'W-1', 'wearable.heart_rate', 71, at(1.2)),
    telemetryMsg('site-a', 'edge-a', 'W-9', 'wearable.battery', 80, at(1.3)),
    telemetryMsg('site-a', 'edge-a', 'T-1', 'env.temperature', 21.5, at(1.4)),
  ]);
  await h.ingest('edge-b', 'site-b', fix('W-1', 1, 10.5, 10.5, 'site-b', 'edge-b'));

  await t.test('telemetry: wearable.lat/lon only for admins and the resident\'s team, filtered before paging', async (t) => {
    type Point = { device: string; metric: string; value: number; time: string };
    const all = async (token: string, qs = '', site = 'site-a'): Promise<Point[]> => {
      const out: Point[] = [];
      let cursor: string | null = null;
      do {
        const r = await h.call('GET', `/api/v1/telemetry?site=${site}&limit=2${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
        t.equal(r.status, 200);
        t.ok(r.body.nextCursor === null || r.body.points.length === 2, 'pages are full until the last');
        out.push(...r.body.points);
        cursor = r.body.nextCursor;
      } while (cursor !== null);
      return out;
    };
    const key = (p: Point) => `${p.device} ${p.metric}`;
    const positions = (ps: Point[]) => ps.filter((p) => p.metric === 'wearable.lat' || p.metric === 'wearable.lon');

    const admin = await all(ADMIN_TOKEN);
    t.equal(admin.length, 11, 'an admin reads every point');
    t.same(await all(adminA), admin, 'an admin of the site too');
    t.equal(positions(admin).length, 8);

    const none = await all(noTeam);
    t.same(positions(none), [], 'security outside every team: no positions');
    t.same(none.map(key), ['W-1 wearable.heart_rate', 'W-9 wearable.battery', 'T-1 env.temperature'], 'and every other metric, in order');
    t.same(none, admin.filter((p) => positions([p]).length === 0), 'unchanged');
    t.same((await h.call('GET', '/api/v1/telemetry?metric=wearable.lat', noTeam)).body, { points: [], nextCursor: null }, 'asking for the metric gives nothing');

    const mine = await all(team1);
    t.same([...new Set(positions(mine).map((p) => p.device))], ['W-1'], 'team-1 sees its resident\'s fixes only');
    t.same(positions(mine), positions(admin).filter((p) => p.device === 'W-1'), 'all of them');
    t.equal(mine.length, 7, 'plus the other metrics');
    t.same(await all(viewer1), mine, 'a viewer in the team the same');
    t.same([...new Set(positions(await all(team2)).map((p) => p.device))], ['W-2']);
    t.same(positions(await all(team1, '&device=W-9')), [], 'a wearable enrolled with nobody: admins only');
    t.equal(positions(await all(ADMIN_TOKEN, '&device=W-9')).length, 2);
    t.same(positions(await all(siteB, '', 'site-b')), [], 'the same wearable id at another site is not team-1\'s resident there');
    t.equal((await all(ADMIN_TOKEN, '', 'site-b')).length, 2);
  });

  const careTags = { resident: 'R1', category: 'safety', reason: 'night_exit', building: 'B3', episode: 'ep-1', ...FIX };
  await h.ingest('edge-a', 'site-a', [
    event('W-1', 'care.wandering', at(1), careTags, { resident: 'R1', reason: 'night_exit', message: 'R1 left the geofence', crossings: 2, positions: POSITIONS }),
    event('W-1', 'wearable.sos', at(1.1), { building: 'B3' }, { lat: 22.5436, lon: 114.0576, battery: 77 }),
    event('W-1', 'care.device_back', at(1.2), { resident: 'R1', category: 'maintenance' }, { resident: 'R1', reason: 'heard' }),
    event('W-2', 'care.fall', at(1.3), { resident: 'R2', ...FIX }, { resident: 'R2', positions: POSITIONS }),
    event('W-9', 'wearable.fall', at(1.4), {}, { lat: 22.99, lon: 114.99 }),
    // W-1's id, but the record names R2: a wearable handed on. Shown only to whoever may see both.
    event('W-1', 'care.inactivity', at(1.5), { resident: 'R2', ...FIX }, { resident: 'R2', positions: POSITIONS }),
    event('G1', 'door.forced', at(1.6), { building: 'B3', last_lat: 'not care' }, { lat: 1, n: 1 }),
  ]);

  await t.test('events: positions of care and wearable events removed and marked, the rest unchanged', async (t) => {
    const events = async (token: string) => {
      const r = await h.call('GET', '/api/v1/events?site=site-a', token);
      t.equal(r.status, 200);
      return Object.fromEntries((r.body.events as Array<{ kind: string; device: string }>).map((e) => [`${e.device} ${e.kind}`, e])) as Record<string, any>;
    };
    const admin = await events(ADMIN_TOKEN);
    t.same(admin['W-1 care.wandering'].tags, careTags, 'admins: whole');
    t.same(admin['W-1 care.wandering'].payload.positions, POSITIONS);
    t.equal(admin['W-1 wearable.sos'].payload.lat, 22.5436);
    t.notOk(Object.values(admin).some((e) => e.tags.location_hidden), 'nothing withheld from an admin');

    const none = await events(noTeam);
    const w = none['W-1 care.wandering'];
    t.same(w.tags, { resident: 'R1', category: 'safety', reason: 'night_exit', building: 'B3', episode: 'ep-1', location_hidden: 'true' }, 'last-fix tags removed, marker set');
    t.same(w.payload, { resident: 'R1', reason: 'night_exit', message: 'R1 left the geofence', crossings: 2 }, 'positions removed, the rest kept');
    t.match(w, { id: admin['W-1 care.wandering'].id, severity: 'major', kind: 'care.wandering', edgeTime: admin['W-1 care.wandering'].edgeTime });
    t.same(none['W-1 wearable.sos'].payload, { battery: 77 }, 'lat/lon of a wearable event removed');
    t.same(none['W-1 wearable.sos'].tags, { building: 'B3', location_hidden: 'true' });
    t.same(none['W-1 care.device_back'], admin['W-1 care.device_back'], 'a care event without a position: unchanged, unmarked');
    t.same(none['G1 door.forced'], admin['G1 door.forced'], 'a non-care event: unchanged');
    for (const k of ['W-2 care.fall', 'W-9 wearable.fall', 'W-1 care.inactivity']) t.equal(none[k].tags.location_hidden, 'true', `${k}: hidden`);
    t.notMatch(JSON.stringify(none), /22\.54|114\.05|22\.99|last_fix_at/, 'no position anywhere in the answer');

    const mine = await events(team1);
    t.same(mine['W-1 care.wandering'], admin['W-1 care.wandering'], 'the resident\'s team: whole');
    t.same(mine['W-1 wearable.sos'], admin['W-1 wearable.sos']);
    t.equal(mine['W-2 care.fall'].tags.location_hidden, 'true', 'another team\'s resident: hidden');
    t.notOk('positions' in mine['W-2 care.fall'].payload);
    t.equal(mine['W-9 wearable.fall'].tags.location_hidden, 'true', 'a wearable enrolled with nobody: hidden');
    t.equal(mine['W-1 care.inactivity'].tags.location_hidden, 'true', 'the wearer and the named resident must both be the team\'s');
    t.same(await events(viewer1), mine, 'a viewer in the team the same');
    const two = await events(team2);
    t.same(two['W-2 care.fall'], admin['W-2 care.fall']);
    t.equal(two['W-1 care.wandering'].tags.location_hidden, 'true');

    const page = await h.call('GET', '/api/v1/events?site=site-a&kind=care.wandering&limit=1', noTeam);
    t.equal(page.body.events.length, 1, 'events are not dropped, so paging is as before');
  });

  const careAlarm = await h.alarms.raise({
    site: 'site-a', edge: 'edge-a', device: 'W-1', type: 'care.wandering', severity: 'major',
    message: 'Resident R1 left the geofence at night', tags: careTags,
  });
  const r2Alarm = await h.alarms.raise({ site: 'site-a', device: 'W-2', type: 'care.fall', severity: 'critical', message: 'Fall of R2', tags: { resident: 'R2', ...FIX } });
  const doorAlarm = await h.alarms.raise({ site: 'site-a', device: 'G1', type: 'door.forced', severity: 'major', message: 'door forced', tags: { building: 'B3' } });

  await t.test('alarms: security outside the team sees everything but the position, and can respond', async (t) => {
    const list = async (token: string) => Object.fromEntries(((await h.call('GET', '/api/v1/alarms?site=site-a', token)).body.alarms as Array<{ id: string }>).map((a) => [a.id, a])) as Record<string, any>;
    const admin = await list(ADMIN_TOKEN);
    t.same(admin[careAlarm.id].tags, careTags, 'admins: whole');

    const none = await list(noTeam);
    const a = none[careAlarm.id];
    t.match(a, { type: 'care.wandering', device: 'W-1', severity: 'major', state: 'open', message: 'Resident R1 left the geofence at night' }, 'type, severity, message, state');
    t.same(a.tags, { resident: 'R1', category: 'safety', reason: 'night_exit', building: 'B3', episode: 'ep-1', location_hidden: 'true' }, 'resident tag kept; last fix removed and marked');
    t.same(none[doorAlarm.id], admin[doorAlarm.id], 'a non-care alarm: unchanged');
    t.equal(none[r2Alarm.id].tags.location_hidden, 'true');
    t.notMatch(JSON.stringify(none), /22\.54|114\.05|last_fix_at/);

    const mine = await list(team1);
    t.same(mine[careAlarm.id], admin[careAlarm.id], 'the resident\'s team: whole');
    t.equal(mine[r2Alarm.id].tags.location_hidden, 'true', 'another team\'s resident: hidden');
    t.same((await list(team2))[r2Alarm.id], admin[r2Alarm.id]);

    const detail = await h.call('GET', `/api/v1/alarms/${careAlarm.id}`, noTeam);
    t.equal(detail.status, 200);
    t.same(detail.body.tags, a.tags, 'the detail the same');
    t.ok(Array.isArray(detail.body.audit) && Array.isArray(detail.body.comments), 'with its history');
    t.same((await h.call('GET', `/api/v1/alarms/${careAlarm.id}`, team1)).body.tags, careTags);
    t.same((await h.call('GET', `/api/v1/alarms/${careAlarm.id}`, adminA)).body.tags, careTags);

    const ack = await h.call('POST', `/api/v1/alarms/${careAlarm.id}/ack`, noTeam, { note: 'on my way to building 3' });
    t.equal(ack.status, 200, 'security outside the team may still act');
    t.match(ack.body, { state: 'acknowledged', acknowledgedBy: 'guard-none', tags: { location_hidden: 'true' } });
    t.notOk('last_lat' in ack.body.tags, 'the answer to an action is scoped too');
    const comment = await h.call('POST', `/api/v1/alarms/${careAlarm.id}/comments`, noTeam, { text: 'resident not in the lobby' });
    t.equal(comment.body.tags.location_hidden, 'true');
    const dispatch = await h.call('POST', `/api/v1/alarms/${careAlarm.id}/dispatch`, noTeam, { terminal: 'T-1' });
    t.match(dispatch.body, { state: 'dispatched', tags: { location_hidden: 'true' } });
    t.notOk('last_lat' in dispatch.body.tags);

    const poll = async (token: string) => (await h.call('GET', '/api/v1/terminals/T-1/dispatches', token)).body.dispatches[0].alarm.tags;
    t.equal((await poll(noTeam)).location_hidden, 'true', 'a terminal polled by security outside the team: hidden');
    t.same(await poll(team1), careTags, 'by the resident\'s team: whole');

    const stored = await h.alarms.get(careAlarm.id, { user: 'test', role: 'admin', sites: '*' });
    t.same(stored.tags, careTags, 'only the answers are scoped; the stored alarm is whole');
    const incidents = await h.call('GET', '/api/v1/incidents', noTeam);
    t.notMatch(JSON.stringify(incidents.body), /22\.54|114\.05/, 'incidents carry no position');
  });
}

t.test('PostgreSQL', (t) => locationScopeSuite(t, 'pg'));
t.test('PGlite', (t) => locationScopeSuite(t, 'pglite'));
