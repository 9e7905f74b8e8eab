/**
 * The alarm pages' URL is a setting of the deployment (issue 15), not of the committed dashboard JSON: an
 * ingest with PUBLIC_URL publishes it, the dashboards' ALARM_PAGE_URL variable query returns it (and the
 * fallback before any ingest has), sign-in links point there, and an https URL makes the cookie Secure.
 */
import t from 'tap';
import { buildBoards, expandMacros } from '@safe-community/dashboards';
import { harness, ADMIN_TOKEN } from '../cloud-ingest/test/api-harness.js';

const variableSql = (): string => {
  const q = buildBoards().find((b) => b.uid === 'sc-alarm-console')!.queries.find((x) => x.panel === 'variable ALARM_PAGE_URL')!;
  return expandMacros(q.query.toSql(), { from: new Date(), to: new Date(), intervalMs: 60_000, variables: {} });
};

t.test('before an ingest publishes a URL the dashboards use the fallback', async (t) => {
  const h = await harness({ backend: 'pglite' });
  t.teardown(() => h.close());
  t.same(await h.store.query(variableSql(), []), [{ __text: 'http://localhost:8080', __value: 'http://localhost:8080' }]);
});

t.test('an ingest with PUBLIC_URL publishes it; links and the cookie follow it', async (t) => {
  const h = await harness({ backend: 'pglite', api: { publicUrl: 'https://safety.example.org/' } });
  t.teardown(() => h.close());
  await h.app.ready();
  const rows = await h.store.query(variableSql(), []);
  t.equal(rows[0]?.__value, 'https://safety.example.org', 'the Grafana variable reads the deployment\'s URL');
  await h.user('guard-x', 'security', ['site-a']);
  const link = await h.call('POST', '/api/v1/users/guard-x/sign-in-link', ADMIN_TOKEN, {});
  t.match(link.body.url, /^https:\/\/safety\.example\.org\/sign-in#link=sl_/);
  const r = await fetch(`${h.base}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: String(link.body.url).split('#link=')[1] }) });
  t.equal(r.status, 200);
  t.match(r.headers.get('set-cookie'), /; Secure$/, 'an https deployment marks the session cookie Secure');
});
