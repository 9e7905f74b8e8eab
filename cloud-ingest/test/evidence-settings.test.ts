/**
 * Issue 16, per-site evidence settings: unblurred clips are refused until a site admin allows them; every
 * change is audited; admins of other sites and staff without the admin role can neither read nor change them.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, apiCall, basic, clipOf, createUser, putChunk, startEvidenceIngest } from './helpers/evidence.js';

const { ingest, base } = await startEvidenceIngest(t, 'ev_settings');
const secretA = await ingest.edges.issue('edge-a1', 'site-a');
const authA = basic('edge-a1', secretA);
const adminA = await createUser(base, 'admin-a', 'admin', ['site-a']);
const adminB = await createUser(base, 'admin-b', 'admin', ['site-b']);
const guardA = await createUser(base, 'guard-a', 'security', ['site-a']);
const url = '/api/v1/sites/site-a/evidence-settings';
const auditRows = (): Promise<Array<{ actor: string; method: string; status: number; target: string; detail: Record<string, unknown> | null }>> =>
  ingest.store.query(`SELECT actor, method, status, target, detail FROM api_audit WHERE route = '/api/v1/sites/:site/evidence-settings' ORDER BY id`);

t.test('a site without settings has the defaults: unblurred refused, 30 days', async (t) => {
  const r = await apiCall(base, 'GET', url, adminA);
  t.equal(r.status, 200);
  t.same(r.body, { site: 'site-a', allowUnblurred: false, retentionDays: 30 });
});

t.test('an unblurred clip is refused, then accepted once the site admin allows it; the change is audited', async (t) => {
  const c = clipOf(randomBytes(4000), { blurred: false });
  const refused = await putChunk(base, c, 0, 3999, authA);
  t.equal(refused.status, 403);
  t.match(await refused.json(), { code: 'ERR_EVIDENCE_UNBLURRED' });
  const changed = await apiCall(base, 'PUT', url, adminA, { allowUnblurred: true });
  t.equal(changed.status, 200);
  t.same(changed.body, { site: 'site-a', allowUnblurred: true, retentionDays: 30 });
  t.match(await auditRows(), [{ actor: 'admin-a', method: 'PUT', status: 200, target: 'site-a', detail: { allowUnblurred: true } }]);
  t.equal((await putChunk(base, c, 0, 3999, authA)).status, 201, 'accepted now');
  const stored = await ingest.store.query<{ blurred: boolean }>('SELECT blurred FROM evidence_clips WHERE clip = $1', [c.clip]);
  t.same(stored, [{ blurred: false }]);
  const back = await apiCall(base, 'PUT', url, adminA, { allowUnblurred: false, retentionDays: 7 });
  t.same(back.body, { site: 'site-a', allowUnblurred: false, retentionDays: 7 });
  t.equal((await putChunk(base, clipOf(randomBytes(100), { blurred: false }), 0, 99, authA)).status, 403, 'refused again');
});

t.test('other sites\' admins, other roles and bad values are refused, and the refusals are audited', async (t) => {
  const before = (await auditRows()).length;
  const otherAdmin = await apiCall(base, 'PUT', url, adminB, { allowUnblurred: true });
  t.equal(otherAdmin.status, 403);
  t.equal(otherAdmin.body.code, 'ERR_FORBIDDEN');
  t.equal((await apiCall(base, 'GET', url, adminB)).status, 403);
  t.equal((await apiCall(base, 'PUT', url, guardA, { allowUnblurred: true })).status, 403);
  t.equal((await apiCall(base, 'GET', url, guardA)).status, 403);
  const bad = await apiCall(base, 'PUT', url, adminA, { retentionDays: 0 });
  t.equal(bad.status, 400);
  t.match(bad.body, { code: 'ERR_VALIDATION', issues: [{ path: '/retentionDays' }] });
  t.equal((await apiCall(base, 'PUT', url, adminA, {})).status, 400, 'an empty change');
  t.equal((await apiCall(base, 'PUT', url, null, { allowUnblurred: true })).status, 401);
  const rows = (await auditRows()).slice(before);
  t.same(rows.map((r) => [r.actor, r.status]), [['admin-b', 403], ['guard-a', 403], ['admin-a', 400], ['admin-a', 400]], 'each refused write audited (not the unauthenticated one)');
  t.same((await apiCall(base, 'GET', url, ADMIN_TOKEN)).body, { site: 'site-a', allowUnblurred: false, retentionDays: 7 }, 'unchanged');
});
