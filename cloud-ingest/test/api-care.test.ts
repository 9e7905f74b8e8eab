/**
 * Elderly care through the API (issue 8 item 6), on PostgreSQL and on PGlite: the residents file saved,
 * replaced and refused; users in guard teams; residents and location history scoped to admins and the
 * resident's team (404 for everyone else, security of the same site included); history newest first,
 * paired by time, bounded by retention and consent; every read of it audited.
 */
import t, { type Test } from 'tap';
import { harness, ADMIN_TOKEN, iso, telemetryMsg, type Harness } from './api-harness.js';
import { careResident, careTeamUsers, createUser, residentsFile } from './helpers/care.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function careSuite(t: Test, backend: 'pg' | 'pglite'): Promise<void> {
  const h: Harness = await harness({ backend, api: { care: { locationRetentionDays: 30 } } });
  t.teardown(() => h.close());

  const { team1, team2, noTeam, viewer1, otherSite } = await careTeamUsers(h);
  const adminB = await createUser(h, 'admin-b', 'admin', ['site-b']);
  const installer = await createUser(h, 'installer-a', 'installer', ['site-a'], ['team-1']);

  const r2GivenAt = iso(-2.5 * HOUR);
  const enrol = residentsFile([
    careResident('R1', 'W-1', 'team-1', ['alerts', 'location']),
    careResident('R2', 'W-2', 'team-2', ['alerts', 'location'], r2GivenAt),
    careResident('R3', 'W-3', 'team-1', ['alerts', 'vitals']),
  ]);
  const audit = async (route: string) => h.store.query<{ actor: string | null; target: string | null; status: number; code: string | null; detail: any; method: string }>(
    'SELECT actor, target, status, code, detail, method FROM api_audit WHERE route = $1 ORDER BY id', [route]);

  t.test('users in guard teams: created with teams, shown by /me, replaced by an admin', async (t) => {
    const me = await h.call('GET', '/api/v1/me', team1);
    t.same(me.body.teams, ['team-1']);
    t.equal((await h.call('GET', '/api/v1/me', noTeam)).body.teams, undefined, 'no teams: none shown (the actor as before)');
    const users = await h.call('GET', '/api/v1/users', ADMIN_TOKEN);
    t.same(users.body.users.find((u: { id: string }) => u.id === 'viewer-t1').teams, ['team-1']);
    const tmp = await createUser(h, 'tmp-guard', 'security', ['site-a']);
    const set = await h.call('PUT', '/api/v1/users/tmp-guard/teams', ADMIN_TOKEN, { teams: ['team-2', 'team-3'] });
    t.equal(set.status, 200);
    t.same(set.body.teams, ['team-2', 'team-3']);
    t.same((await h.call('GET', '/api/v1/me', tmp)).body.teams, ['team-2', 'team-3'], 'effective on the next request');
    t.equal((await h.call('PUT', '/api/v1/users/tmp-guard/teams', team1, { teams: ['team-1'] })).status, 403, 'admins only');
    t.equal((await h.call('PUT', '/api/v1/users/nobody/teams', ADMIN_TOKEN, { teams: [] })).status, 404);
    t.equal((await h.call('PUT', '/api/v1/users/tmp-guard/teams', ADMIN_TOKEN, { teams: [''] })).body.code, 'ERR_VALIDATION');
    const rows = await audit('/api/v1/users/:user/teams');
    t.match(rows[0], { actor: 'admin', target: 'tmp-guard', status: 200, method: 'PUT' }, 'team changes are audited');
  });

  t.test('enrolment: saved, refused with the file\'s own codes, only by admins of the site', async (t) => {
    const saved = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, enrol);
    t.equal(saved.status, 200);
    t.same(saved.body, { saved: 3, removed: 0 });

    const unknownKey = residentsFile([{ ...careResident('R9', 'W-9', 'team-1', ['alerts']), shoeSize: 42 }]);
    const bad = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, unknownKey);
    t.equal(bad.status, 400);
    t.equal(bad.body.code, 'ERR_CONFIG');
    t.match(bad.body.message, /residents\.0.*shoeSize/, 'the message names the key');
    const badScope = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, residentsFile([careResident('R9', 'W-9', 'team-1', ['gps'])]));
    t.equal(badScope.body.code, 'ERR_CONFIG');
    t.match(badScope.body.message, /residents\.0\.consent\.scope/);
    const twice = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, residentsFile([careResident('R8', 'W-1', 'team-1', ['alerts']), careResident('R9', 'W-1', 'team-1', ['alerts'])]));
    t.equal(twice.status, 400);
    t.equal(twice.body.code, 'ERR_CARE_RESIDENTS');
    t.match(twice.body.message, /wearable W-1/);
    t.equal((await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, '[1,2]')).status, 400, 'not an object');

    t.equal((await h.call('PUT', '/api/v1/sites/site-a/residents', team1, enrol)).status, 403, 'security may not');
    t.equal((await h.call('PUT', '/api/v1/sites/site-a/residents', installer, enrol)).body.code, 'ERR_FORBIDDEN');
    const foreign = await h.call('PUT', '/api/v1/sites/site-a/residents', adminB, enrol);
    t.equal(foreign.status, 404, 'an admin of another site: not found');
    t.equal(foreign.body.code, 'ERR_NOT_FOUND');

    const list = await h.call('GET', '/api/v1/sites/site-a/residents', ADMIN_TOKEN);
    t.same(list.body.residents.map((r: { id: string }) => r.id), ['R1', 'R2', 'R3'], 'refused saves changed nothing');

    const rows = await audit('/api/v1/sites/:site/residents');
    const writes = rows.filter((r) => r.method === 'PUT');
    t.match(writes[0], { actor: 'admin', target: 'site-a', status: 200, code: null });
    t.ok(writes.some((r) => r.status === 400 && r.code === 'ERR_CONFIG'), 'refused saves are audited with their code');
    t.ok(writes.some((r) => r.actor === 'guard-t1' && r.status === 403), 'and refused callers');
  });

  t.test('residents list: admins see all, others their teams\' residents only', async (t) => {
    const ids = async (token: string, site = 'site-a') => (await h.call('GET', `/api/v1/sites/${site}/residents`, token)).body.residents.map((r: { id: string }) => r.id);
    t.same(await ids(ADMIN_TOKEN), ['R1', 'R2', 'R3']);
    t.same(await ids(team1), ['R1', 'R3']);
    t.same(await ids(team2), ['R2']);
    t.same(await ids(viewer1), ['R1', 'R3'], 'a viewer in the team too');
    t.same(await ids(noTeam), [], 'security of the site outside every team: none');
    t.same(await ids(otherSite), [], 'a team-1 member of another site: none');
    t.same(await ids(adminB), [], 'an admin of another site: none');
    const one = (await h.call('GET', '/api/v1/sites/site-a/residents', team1)).body.residents[0];
    t.match(one, { site: 'site-a', id: 'R1', wearable: 'W-1', team: 'team-1', unit: 'u-R1', consent: { scope: ['alerts', 'location'] } });
    t.equal(one.contacts[1].phone, '+86-138-0000-0002', 'the team sees the contacts\' phone numbers');
    const reads = (await audit('/api/v1/sites/:site/residents')).filter((r) => r.method === 'GET');
    t.ok(reads.some((r) => r.actor === 'guard-t1' && r.target === 'site-a' && r.detail.read === true && r.detail.residents === 2), 'reads of the list are audited');
  });

  t.test('location history: paired, newest first, bounded, paged; 404 outside admins and the team', async (t) => {
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms).toISOString();
    const fix = (device: string, ms: number, lat: number, lon: number, site = 'site-a', edge = 'edge-a') => [
      telemetryMsg(site, edge, device, 'wearable.lat', lat, at(ms)),
      telemetryMsg(site, edge, device, 'wearable.lon', lon, at(ms)),
    ];
    const t1 = HOUR, t2 = 2 * HOUR, t3 = 3 * HOUR;
    await h.ingest('edge-a', 'site-a', [
      ...fix('W-1', t2, 22.5432, 114.0572), ...fix('W-1', t1, 22.5431, 114.0571), ...fix('W-1', t3, 22.5433, 114.0573),
      ...fix('W-1', 40 * DAY, 22.6, 114.1), // past the 30-day retention
      telemetryMsg('site-a', 'edge-a', 'W-1', 'wearable.lat', 22.9, at(4 * HOUR)), // no lon: not a fix
      telemetryMsg('site-a', 'edge-a', 'W-1', 'wearable.heart_rate', 71, at(t1)),
      ...fix('W-2', t1, 22.1, 114.1), ...fix('W-2', t3, 22.3, 114.3), // t3 is before R2's consent
      ...fix('W-3', t1, 22.7, 114.7), // R3 gave no location consent
    ]);
    await h.ingest('edge-b', 'site-b', fix('W-1', t1, 10, 10, 'site-b', 'edge-b')); // same wearable id at another site

    const loc = (token: string, path = 'site-a/residents/R1', qs = '') => h.call('GET', `/api/v1/sites/${path}/locations${qs}`, token);
    const a = await loc(ADMIN_TOKEN);
    t.equal(a.status, 200);
    t.match(a.body, { site: 'site-a', resident: 'R1', locationConsent: true, retentionDays: 30, to: null, nextTo: null });
    t.same(a.body.positions.map((p: { lat: number; lon: number }) => [p.lat, p.lon]), [[22.5431, 114.0571], [22.5432, 114.0572], [22.5433, 114.0573]], 'newest first, lat and lon paired');
    t.same(a.body.positions.map((p: { time: string }) => p.time), [at(t1), at(t2), at(t3)], 'with the fixes\' times');
    t.ok(Date.parse(a.body.from) >= Date.now() - 30 * DAY - 60_000 && Date.parse(a.body.from) <= Date.now() - 30 * DAY + 60_000, 'from is the retention floor');

    const mine = await loc(team1);
    t.same(mine.body.positions, a.body.positions, 'the resident\'s team reads the same');
    t.equal((await loc(viewer1)).status, 200, 'a viewer in the team may read too');

    for (const [who, token] of [['security of the site, no team', noTeam], ['another team', team2], ['team-1 at another site', otherSite], ['admin of another site', adminB]] as const) {
      const r = await loc(token);
      t.equal(r.status, 404, `${who}: 404`);
      t.equal(r.body.code, 'ERR_NOT_FOUND');
    }
    const unknown = await loc(ADMIN_TOKEN, 'site-a/residents/R404');
    t.equal(unknown.status, 404);
    t.same(Object.keys((await loc(noTeam)).body).sort(), Object.keys(unknown.body).sort(), 'refused reads like an unknown resident');
    t.equal((await loc(team1, 'site-b/residents/R1')).status, 404);

    const range = await loc(team1, 'site-a/residents/R1', `?from=${encodeURIComponent(at(t2 + 60_000))}&to=${encodeURIComponent(at(t1))}`);
    t.same(range.body.positions.map((p: { lat: number }) => p.lat), [22.5432], 'from inclusive, to exclusive');
    const page1 = await loc(team1, 'site-a/residents/R1', '?limit=2');
    t.equal(page1.body.positions.length, 2);
    t.equal(page1.body.nextTo, page1.body.positions[1].time);
    const page2 = await loc(team1, 'site-a/residents/R1', `?limit=2&to=${encodeURIComponent(page1.body.nextTo)}`);
    t.same(page2.body.positions.map((p: { lat: number }) => p.lat), [22.5433]);
    t.equal(page2.body.nextTo, null);
    const old = await loc(ADMIN_TOKEN, 'site-a/residents/R1', `?from=${encodeURIComponent(at(50 * DAY))}`);
    t.equal(old.body.positions.length, 3, 'asking further back than retention reads nothing older');
    t.equal((await loc(ADMIN_TOKEN, 'site-a/residents/R1', '?from=yesterday')).body.code, 'ERR_VALIDATION');

    const r2 = await loc(team2, 'site-a/residents/R2');
    t.same(r2.body.positions.map((p: { lat: number }) => p.lat), [22.1], 'nothing from before the resident\'s consent');
    t.equal(r2.body.from, new Date(r2GivenAt).toISOString());

    const r3 = await loc(team1, 'site-a/residents/R3');
    t.equal(r3.status, 200);
    t.match(r3.body, { locationConsent: false, positions: [], nextTo: null }, 'no location consent: no history, whatever is stored');

    const rows = await audit('/api/v1/sites/:site/residents/:id/locations');
    t.match(rows[0], { actor: 'admin', target: 'site-a/R1', status: 200, code: null, method: 'GET', detail: { read: true, site: 'site-a', resident: 'R1', points: 3, to: null } });
    t.equal(rows[0]!.detail.from, a.body.from, 'the range read is recorded');
    t.ok(rows.some((r) => r.actor === 'guard-none' && r.status === 404 && r.code === 'ERR_NOT_FOUND' && r.target === 'site-a/R1'), 'refused reads are recorded too');
    t.ok(rows.some((r) => r.actor === 'guard-t1' && r.target === 'site-a/R3' && r.detail.locationConsent === false && r.detail.points === 0));
    t.ok(rows.some((r) => r.actor === 'guard-t1' && r.detail.askedFrom !== undefined && r.detail.points === 1), 'with the range asked');
    const unauth = await h.call('GET', '/api/v1/sites/site-a/residents/R1/locations', null);
    t.equal(unauth.status, 401);
    t.ok((await audit('/api/v1/sites/:site/residents/:id/locations')).some((r) => r.actor === null && r.status === 401), 'even without a token');
    const head = await fetch(`${h.base}/api/v1/sites/site-a/residents/R1/locations`, { method: 'HEAD', headers: { authorization: `Bearer ${team1}` } });
    t.equal(head.status, 200);
    t.ok((await audit('/api/v1/sites/:site/residents/:id/locations')).some((r) => r.method === 'HEAD' && r.actor === 'guard-t1' && r.detail.points === 3), 'HEAD runs the read, so it is audited too');
  });

  t.test('replacing the enrolment removes residents, and with them access', async (t) => {
    const r = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, residentsFile([
      careResident('R1', 'W-1', 'team-2', ['alerts', 'location']), // moved to team 2
      careResident('R3', 'W-3', 'team-1', ['alerts', 'vitals']),
    ]));
    t.same(r.body, { saved: 2, removed: 1 });
    t.equal((await h.call('GET', '/api/v1/sites/site-a/residents/R2/locations', ADMIN_TOKEN)).status, 404, 'R2 is gone');
    t.equal((await h.call('GET', '/api/v1/sites/site-a/residents/R1/locations', team1)).status, 404, 'team-1 lost R1');
    t.equal((await h.call('GET', '/api/v1/sites/site-a/residents/R1/locations', team2)).status, 200, 'team-2 gained R1');
  });

  t.test('OpenAPI lists the care routes', async (t) => {
    const doc = await (await fetch(`${h.base}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    t.ok(doc.paths['/api/v1/sites/{site}/residents']?.put);
    t.ok(doc.paths['/api/v1/sites/{site}/residents']?.get);
    t.ok(doc.paths['/api/v1/sites/{site}/residents/{id}/locations']?.get);
    t.ok(doc.paths['/api/v1/users/{user}/teams']?.put);
  });
}

t.test('PostgreSQL', (t) => careSuite(t, 'pg'));
t.test('PGlite', (t) => careSuite(t, 'pglite'));
