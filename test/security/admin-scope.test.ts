/**
 * Issue 12, item 5: admins are scoped to their sites, and evidence is served within the alarm's site only.
 * A site-A admin tries everything the issue found it could do to site B; each is refused (403, recorded in
 * the audit trail) and leaves site B as it was. A site-B alarm naming a site-A event shows none of site A's
 * linkage record or snapshot.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UplinkMessage } from '@safe-community/contracts';
import { MEDIA_DIR } from '@safe-community/testkit';
import { ADMIN_TOKEN, alarmRecord, api, basic, envelopeOf, fireEvent, postEnvelope, startIngest } from './fixtures/ingest.js';

const snapshots = await mkdtemp(join(tmpdir(), 'sec-snap-'));
t.teardown(() => rm(snapshots, { recursive: true, force: true }));
await mkdir(join(snapshots, 'site-a', 'CAM1'), { recursive: true });
await copyFile(join(MEDIA_DIR, 'bus.jpg'), join(snapshots, 'site-a', 'CAM1', 'fire.jpg'));
const ingest = await startIngest(t, 'sec_admin', { api: { adminToken: ADMIN_TOKEN, snapshotsDir: snapshots } });

const user = async (id: string, role: string, sites: string[] | '*'): Promise<string> =>
  (await api(ingest, 'POST', '/users', ADMIN_TOKEN, { id, role, sites })).body.token as string;
const adminA = await user('admin-a', 'admin', ['site-a']);
const viewerB = await user('viewer-b', 'viewer', ['site-b']);
const secB = await user('sec-b', 'security', ['site-b']);
const edgeB = await ingest.edges.issue('edge-b1', 'site-b');

t.test("a site admin cannot reach beyond its sites; the global admin can", async (t) => {
  const refusals: Array<[string, string, string, unknown?]> = [
    ['create an all-sites admin', 'POST', '/users', { id: 'rogue', role: 'admin', sites: '*' }],
    ['create a user on site B', 'POST', '/users', { id: 'rogue-b', role: 'security', sites: ['site-a', 'site-b'] }],
    ["rotate a site-B user's token", 'POST', '/users/sec-b/token'],
    ['disable a site-B user', 'POST', '/users/sec-b/disable'],
    ["change a site-B user's teams", 'PUT', '/users/sec-b/teams', { teams: ['x'] }],
    ["re-issue site B's edge secret", 'POST', '/edges/edge-b1/credentials', { site: 'site-b' }],
    ["move site B's edge to site A", 'POST', '/edges/edge-b1/credentials', { site: 'site-a' }],
    ["disable site B's edge", 'POST', '/edges/edge-b1/disable'],
    ["move a site-B device", 'PUT', '/sites/site-b/devices/G1/owner', { edge: 'edge-b1' }],
    ['replace the cloud rule set, which covers every site', 'PUT', '/rules', { version: 99, rules: [] }],
    // Browser sign-in (issue 15): taking over a site-B person through a password or a one-time link.
    ["set a site-B user's sign-in password", 'PUT', '/users/sec-b/password', { password: 'correct horse battery' }],
    ['issue a sign-in link for a site-B user', 'POST', '/users/sec-b/sign-in-link', {}],
    ["end a site-B user's browser sessions", 'DELETE', '/users/sec-b/sessions'],
  ];
  for (const [what, method, path, body] of refusals) {
    const r = await api(ingest, method, path, adminA, body);
    t.equal(r.status, 403, `${what}: refused`);
  }
  const listed = (await api(ingest, 'GET', '/users', adminA)).body.users as Array<{ id: string }>;
  t.same(listed.map((u) => u.id).sort(), ['admin-a'], 'lists only users wholly inside its sites');
  t.equal((await api(ingest, 'GET', '/me', secB)).status, 200, 'site B user still signs in with the old token');
  t.same(await ingest.edges.authenticate('edge-b1', edgeB), { edge: 'edge-b1', site: 'site-b' }, "site B's edge still logs in");
  const audit = await ingest.store.query<{ n: number }>("SELECT count(*)::int AS n FROM api_audit WHERE actor = 'admin-a' AND status = 403");
  t.equal(audit[0]?.n, refusals.length, 'every refusal is in the audit trail');
  // Inside its own site it manages as before; the global admin reaches everywhere.
  t.equal((await api(ingest, 'POST', '/users', adminA, { id: 'sec-a', role: 'security', sites: ['site-a'] })).status, 201);
  t.equal((await api(ingest, 'POST', '/edges/edge-a1/credentials', adminA, { site: 'site-a' })).status, 201);
  t.equal((await api(ingest, 'POST', '/users/sec-b/disable', ADMIN_TOKEN)).status, 200, 'the global admin disables a site-B user');
});

t.test("a site-B alarm naming a site-A event shows none of site A's evidence", async (t) => {
  const edgeA = (await api(ingest, 'POST', '/edges/edge-a9/credentials', ADMIN_TOKEN, { site: 'site-a' })).body.secret as string;
  const evA = randomUUID();
  const withSnapshot = (m: UplinkMessage): UplinkMessage => {
    if (m.type === 'event') m.data.payload = { ...m.data.payload, snapshot: 'snapshot:CAM1/fire.jpg' };
    return m;
  };
  const linkage = (seq: number): UplinkMessage => ({ seq, type: 'linkage', data: {
    id: randomUUID(), site: 'site-a', edge: 'edge-a9', rule: 'fire-evacuation', triggerEventId: evA, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), status: 'confirmed',
    actions: [{ device: 'G1', action: 'hold_open', commandId: randomUUID(), status: 'confirmed', attempts: 1, sentAfterMs: 2, confirmedAfterMs: 9 }],
  } });
  const alarmA = randomUUID();
  const a = alarmRecord('edge-a9', 'site-a', 3, alarmA, { device: 'FP1' });
  if (a.type === 'alarm') a.data.sourceEventId = evA;
  t.equal((await postEnvelope(ingest, envelopeOf('edge-a9', 'site-a', [withSnapshot(fireEvent('edge-a9', 'site-a', 1, evA)), linkage(2), a]), basic('edge-a9', edgeA))).status, 200);
  const alarmB = randomUUID();
  const evB = randomUUID();
  const b = alarmRecord('edge-b1', 'site-b', 2, alarmB, { device: 'FP7' });
  if (b.type === 'alarm') b.data.sourceEventId = evA;
  const b2 = alarmRecord('edge-b1', 'site-b', 3, randomUUID(), { device: 'FP8' });
  if (b2.type === 'alarm') b2.data.sourceEventId = evB;
  // Site B's own event names site A's picture by its reference: it is looked for under site B's folder only.
  t.equal((await postEnvelope(ingest, envelopeOf('edge-b1', 'site-b', [withSnapshot(fireEvent('edge-b1', 'site-b', 1, evB)), b, b2]), basic('edge-b1', edgeB))).status, 200);

  const viewB = await api(ingest, 'GET', `/alarms/${alarmB}`, viewerB);
  t.equal(viewB.status, 200);
  t.same(viewB.body.evidence.linkages, [], "no site-A linkage record");
  t.same(viewB.body.evidence.snapshots, [], 'no site-A snapshot');
  const control = await api(ingest, 'GET', `/alarms/${alarmA}`, ADMIN_TOKEN);
  t.equal(control.body.evidence.linkages.length, 1, 'the site-A alarm shows its own linkage record (control)');
  t.same(control.body.evidence.snapshots, ['snapshot:CAM1/fire.jpg']);
  const base = `http://127.0.0.1:${ingest.address().port}`;
  const jpegA = await fetch(`${base}/alarms/${alarmA}/snapshot`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(jpegA.status, 200, "site A's snapshot is served for site A's alarm");
  const b2id = (b2 as Extract<UplinkMessage, { type: 'alarm' }>).data.id;
  const jpegB = await fetch(`${base}/alarms/${b2id}/snapshot`, { headers: { authorization: `Bearer ${viewerB}` } });
  t.equal(jpegB.status, 404, "the same reference from a site-B alarm finds nothing: storage is keyed by site");
});
