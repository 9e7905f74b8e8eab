/** Tokens, roles and site scoping, rate limits and the audit trail of the API. */
import t from 'tap';
import Fastify from 'fastify';
import { harness, ADMIN_TOKEN, statusMsg } from './api-harness.js';

const h = await harness();
t.teardown(() => h.close());

const security = await h.user('sec-a', 'security', ['site-a']);
const securityB = await h.user('sec-b', 'security', ['site-b']);
const installer = await h.user('inst-a', 'installer', ['site-a']);
const viewer = await h.user('view-a', 'viewer', ['site-a']);
const alarmA = await h.alarms.raise({ site: 'site-a', device: 'G1', type: 'door.forced', severity: 'major', message: 'door forced at G1' });
const alarmB = await h.alarms.raise({ site: 'site-b', device: 'G9', type: 'door.forced', severity: 'major', message: 'door forced at G9' });

t.test('without a valid bearer token every API route answers 401 with a stable code', async (t) => {
  for (const [token, header] of [[null, undefined], ['not-a-token', undefined], [null, 'Basic YTpi'], [null, 'Bearer']] as const) {
    const r = await fetch(`${h.base}/api/v1/alarms`, { headers: header ? { authorization: header } : token ? { authorization: `Bearer ${token}` } : {} });
    t.equal(r.status, 401, `${header ?? token ?? 'no header'} → 401`);
    t.match(await r.json(), { code: 'ERR_UNAUTHENTICATED' });
    t.match(r.headers.get('www-authenticate'), /^Bearer/);
  }
  const w = await h.call('POST', `/api/v1/alarms/${alarmA.id}/ack`, 'wrong', {});
  t.equal(w.status, 401);
  t.equal((await h.alarms.get(alarmA.id, { user: 't', role: 'admin', sites: '*' })).state, 'open', 'nothing changed');
});

t.test('the bootstrap admin from ADMIN_TOKEN works and users get hashed tokens', async (t) => {
  const me = await h.call('GET', '/api/v1/me', ADMIN_TOKEN);
  t.same(me.body, { user: 'admin', role: 'admin', sites: '*' });
  const rows = await h.store.query<{ id: string; token_hash: string }>('SELECT id, token_hash FROM api_users ORDER BY id');
  t.ok(rows.length >= 5);
  for (const r of rows) {
    t.match(r.token_hash, /^[0-9a-f]{64}$/, `${r.id}: only a sha256 is stored`);
    t.not(r.token_hash, security);
  }
  const mine = await h.call('GET', '/api/v1/me', security);
  t.same(mine.body, { user: 'sec-a', role: 'security', sites: ['site-a'] });
});

t.test('only admins manage users; a duplicate user is 409; a disabled or rotated token is refused', async (t) => {
  const r = await h.call('POST', '/api/v1/users', security, { id: 'x1', role: 'admin', sites: '*' });
  t.equal(r.status, 403);
  t.equal(r.body.code, 'ERR_FORBIDDEN');
  t.equal((await h.store.query(`SELECT 1 FROM api_users WHERE id = 'x1'`)).length, 0, 'nothing created');
  const dup = await h.call('POST', '/api/v1/users', ADMIN_TOKEN, { id: 'sec-a', role: 'viewer', sites: ['site-a'] });
  t.equal(dup.status, 409);
  t.equal(dup.body.code, 'ERR_CONFLICT');
  const bad = await h.call('POST', '/api/v1/users', ADMIN_TOKEN, { id: 'x2', role: 'root', sites: '*' });
  t.equal(bad.status, 400);
  t.equal(bad.body.code, 'ERR_VALIDATION');
  t.match(bad.body.issues, [{ path: '/role' }]);

  const temp = await h.user('temp', 'viewer', ['site-a']);
  t.equal((await h.call('GET', '/api/v1/me', temp)).status, 200);
  const rotated = await h.call('POST', '/api/v1/users/temp/token', ADMIN_TOKEN);
  t.equal(rotated.status, 200);
  t.equal((await h.call('GET', '/api/v1/me', temp)).status, 401, 'the old token stops working');
  t.equal((await h.call('GET', '/api/v1/me', rotated.body.token)).status, 200, 'the new one works');
  t.equal((await h.call('POST', '/api/v1/users/temp/disable', ADMIN_TOKEN)).status, 200);
  t.equal((await h.call('GET', '/api/v1/me', rotated.body.token)).status, 401, 'a disabled user is refused');
});

t.test('viewer cannot act; installer cannot acknowledge but can comment; security acts', async (t) => {
  const v = await h.call('POST', `/api/v1/alarms/${alarmA.id}/ack`, viewer, {});
  t.equal(v.status, 403);
  t.equal(v.body.code, 'ERR_FORBIDDEN');
  const vc = await h.call('POST', `/api/v1/alarms/${alarmA.id}/comments`, viewer, { text: 'seen' });
  t.equal(vc.status, 403, 'viewer cannot comment');
  const i = await h.call('POST', `/api/v1/alarms/${alarmA.id}/ack`, installer, { note: 'on it' });
  t.equal(i.status, 403);
  const ir = await h.call('POST', `/api/v1/alarms/${alarmA.id}/resolve`, installer, {});
  t.equal(ir.status, 403);
  const cmd = await h.call('POST', '/api/v1/commands', installer, { site: 'site-a', device: 'G1', action: 'hold_open' });
  t.equal(cmd.status, 403, 'installer cannot command devices');
  t.equal((await h.call('GET', `/api/v1/alarms/${alarmA.id}`, viewer)).body.state, 'open', 'nothing changed');
  const ic = await h.call('POST', `/api/v1/alarms/${alarmA.id}/comments`, installer, { text: 'camera 3 is dirty' });
  t.equal(ic.status, 200);
  t.match(ic.body.comments, [{ author: 'inst-a', text: 'camera 3 is dirty' }]);
  const s = await h.call('POST', `/api/v1/alarms/${alarmA.id}/ack`, security, { note: 'guard informed' });
  t.equal(s.status, 200);
  t.equal(s.body.state, 'acknowledged');
  t.equal(s.body.acknowledgedBy, 'sec-a');
});

t.test("security of site A cannot see or act on site B's alarm: 404, as for an unknown id", async (t) => {
  const get = await h.call('GET', `/api/v1/alarms/${alarmB.id}`, security);
  t.equal(get.status, 404);
  t.equal(get.body.code, 'ERR_ALARM_NOT_FOUND');
  const unknown = await h.call('GET', '/api/v1/alarms/00000000-0000-4000-8000-000000000000', security);
  t.equal(unknown.status, 404);
  t.equal(unknown.body.code, get.body.code, 'same answer as an id that does not exist');
  for (const [path, body] of [['ack', {}], ['resolve', {}], ['assign', { assignee: 'x' }], ['dispatch', { terminal: 'T1' }], ['comments', { text: 'x' }]] as const) {
    const r = await h.call('POST', `/api/v1/alarms/${alarmB.id}/${path}`, security, body);
    t.equal(r.status, 404, `${path} on another site's alarm → 404`);
  }
  const list = await h.call('GET', '/api/v1/alarms', security);
  t.ok(list.body.alarms.every((a: { site: string }) => a.site === 'site-a'), 'the list holds only site A');
  const b = await h.call('GET', `/api/v1/alarms/${alarmB.id}`, securityB);
  t.equal(b.status, 200);
  t.equal(b.body.state, 'open', "site B's alarm unchanged");
  t.same(b.body.comments, []);
});

t.test('inventory and queries are scoped to the caller\'s sites', async (t) => {
  await h.ingest('edge-a', 'site-a', [statusMsg('site-a', 'edge-a', 'G1')]);
  await h.ingest('edge-b', 'site-b', [statusMsg('site-b', 'edge-b', 'G9')]);
  const devA = await h.call('GET', '/api/v1/devices', security);
  t.same(devA.body.devices.map((d: { device: string }) => d.device), ['G1']);
  const asked = await h.call('GET', '/api/v1/devices?site=site-b', security);
  t.same(asked.body.devices, [], 'asking for another site gives nothing');
  const all = await h.call('GET', '/api/v1/sites', ADMIN_TOKEN);
  t.same(all.body.sites.map((s: { site: string }) => s.site), ['site-a', 'site-b']);
  const mine = await h.call('GET', '/api/v1/sites', viewer);
  t.same(mine.body.sites.map((s: { site: string }) => s.site), ['site-a']);
});

t.test('every authenticated write is audited with who, what, when and the request id, refused ones included', async (t) => {
  const before = Number((await h.store.query<{ n: string }>('SELECT count(*) AS n FROM api_audit'))[0]!.n);
  const unauthenticatedBefore = h.api.flood.counts.apiUnauthenticated;
  const ok = await h.call('POST', `/api/v1/alarms/${alarmA.id}/comments`, security, { text: 'audit me' });
  const refused = await h.call('POST', `/api/v1/alarms/${alarmA.id}/resolve`, viewer, {});
  const anon = await h.call('POST', `/api/v1/alarms/${alarmA.id}/resolve`, null, {});
  await h.call('GET', '/api/v1/alarms', security);
  const rows = await h.store.query<{ actor: string | null; role: string | null; method: string; route: string; target: string; status: number; code: string | null; request_id: string; at: Date }>(
    'SELECT actor, role, method, route, target, status, code, request_id, at FROM api_audit ORDER BY id OFFSET $1', [before]);
  t.equal(rows.length, 2, 'two authenticated writes, two rows; the read and the unauthenticated write are not audited');
  t.match(rows[0], { actor: 'sec-a', role: 'security', method: 'POST', route: '/api/v1/alarms/:id/comments', target: alarmA.id, status: 200, code: null, request_id: ok.body.requestId ?? String });
  t.match(rows[1], { actor: 'view-a', role: 'viewer', route: '/api/v1/alarms/:id/resolve', status: 403, code: 'ERR_FORBIDDEN', request_id: refused.body.requestId });
  // Refused before authentication: counted, never stored (issue 13: a flood of them wrote one row each).
  t.equal(anon.status, 401);
  t.equal(h.api.flood.counts.apiUnauthenticated, unauthenticatedBefore + 1, 'the unauthenticated write is counted');
  t.ok(rows.every((r) => Date.now() - new Date(r.at).getTime() < 60_000), 'each row has its time');
  // Every row written by the suite so far names a route and a request id.
  const missing = await h.store.query(`SELECT id FROM api_audit WHERE request_id = '' OR route = ''`);
  t.same(missing, []);
});

t.test('edge credentials: issued by an admin, checked by the edge hook, stored hashed', async (t) => {
  const r = await h.call('POST', '/api/v1/edges/edge-a/credentials', ADMIN_TOKEN, { site: 'site-a' });
  t.equal(r.status, 201);
  t.match(r.body.secret, /^edge_/);
  t.same(await h.api.edges.authenticate('edge-a', r.body.secret), { edge: 'edge-a', site: 'site-a' });
  t.equal(await h.api.edges.authenticate('edge-a', `${r.body.secret}x`), null);
  t.equal(await h.api.edges.authenticate('edge-z', r.body.secret), null);
  const stored = await h.store.query<{ secret_hash: string }>(`SELECT secret_hash FROM edge_credentials WHERE edge = 'edge-a'`);
  t.not(stored[0]?.secret_hash, r.body.secret);
  const sec = await h.call('POST', '/api/v1/edges/edge-a/credentials', security, { site: 'site-a' });
  t.equal(sec.status, 403);
});

t.test('the edge hook lets an edge in with its own id and secret only', async (t) => {
  const secret = (await h.call('POST', '/api/v1/edges/edge-c/credentials', ADMIN_TOKEN, { site: 'site-a' })).body.secret as string;
  const app = Fastify();
  app.decorateRequest('edgeIdentity', null);
  app.post('/probe', { onRequest: h.api.edgeAuth }, async (req) => ({ who: req.edgeIdentity }));
  t.teardown(() => app.close());
  const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
  const ok = await app.inject({ method: 'POST', url: '/probe', headers: basic('edge-c', secret) });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { who: { edge: 'edge-c', site: 'site-a' } });
  for (const headers of [{}, basic('edge-c', 'wrong'), basic('edge-a', secret), { authorization: `Bearer ${ADMIN_TOKEN}` }]) {
    const r = await app.inject({ method: 'POST', url: '/probe', headers });
    t.equal(r.statusCode, 401, JSON.stringify(headers));
    t.equal(r.json().code, 'ERR_UNAUTHENTICATED');
  }
});
