/**
 * Issue 13, floods cost nothing: junk on the HTTP ingest is recorded only up to a small share per address
 * and the ingest rate is limited before credentials; API requests with made-up tokens get 429 after a few
 * failures and leave no audit row; refusals are counted in /metrics. And the small ones: 401 (not 500) for
 * the terminal routes without a token, 400 (not 500) for NUL in an API text field.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startHttpIngest } from './helpers/http-ingest.js';
import { envelope, telemetry } from './helpers/messages.js';

const ADMIN = 'admin-token-for-flood-tests-0123456789abc';
const { ingest, base } = await startHttpIngest(t, 'flood', {
  api: { adminToken: ADMIN },
  flood: { authFailuresPerMinute: 6, authFailureBurst: 10, ingestPerSecond: 1, ingestBurst: 150, junkPerMinute: 1, junkBurst: 5 },
});

t.test('junk on the HTTP ingest: a few refusals recorded, the rest answered 401 and only counted; then 429 before anything', async (t) => {
  const junk = `{"junk":"${'x'.repeat(60_000)}"}`;
  const statuses: number[] = [];
  for (let i = 0; i < 140; i++) {
    const r = await fetch(`${base}/ingest/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: junk });
    statuses.push(r.status);
    await r.arrayBuffer();
  }
  t.ok(statuses.every((s) => s === 401), 'junk without edge credentials is answered 401, its body unread');
  const [dl] = await ingest.store.query<{ n: number; bytes: number }>(`SELECT count(*)::int AS n, COALESCE(sum(length(payload)), 0)::int AS bytes FROM dead_letters WHERE source = 'http'`);
  t.equal(dl!.n, 5, 'only the address\'s share of junk is recorded');
  t.ok(dl!.bytes < 400_000, `stored ${dl!.bytes} bytes for 140 junk requests`);
  // The request budget (150, refilling 1/s) runs out: 429 before the body is looked at.
  const more: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${base}/ingest/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope('fl', [telemetry('fl', 1)])) });
    more.push(r.status);
    await r.arrayBuffer();
  }
  t.ok(more.includes(429), 'past the per-address rate: 429');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  // Every refusal past the address's share of 5 is counted, the later unauthenticated envelopes too.
  const notRecorded = 140 - 5 + more.filter((s) => s === 401).length;
  t.match(metrics, new RegExp(`ingest_refused_before_auth_total\\{reason="junkNotRecorded"\\} ${notRecorded}\\n`));
  t.match(metrics, /ingest_refused_before_auth_total\{reason="ingestThrottled"\} [1-9]/);
});

t.test('API requests with made-up tokens: 401 a few times, then 429 unread; no audit row for any', async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) {
    const r = await fetch(`${base}/api/v1/alarms/00000000-0000-4000-8000-000000000000/ack`, {
      method: 'POST', headers: { authorization: `Bearer ${randomBytes(24).toString('base64url')}`, 'content-type': 'application/json' }, body: '{}',
    });
    statuses.push(r.status);
    await r.arrayBuffer();
  }
  t.same(statuses.slice(0, 10), Array(10).fill(401), 'the first failures (the burst) are 401');
  // The failure that empties the bucket is itself a 401; a token may come back meanwhile (0.1/s).
  const unauthenticated = statuses.filter((s) => s === 401).length;
  t.ok(unauthenticated <= 13, `${unauthenticated} answered 401 in all`);
  t.same(new Set(statuses.slice(13)), new Set([429]), 'the rest 429, unread');
  const [audit] = await ingest.store.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_audit`);
  t.equal(audit!.n, 0, 'no audit row for a request refused before authentication');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, new RegExp(`ingest_refused_before_auth_total\\{reason="apiUnauthenticated"\\} ${unauthenticated}\n`));
  t.match(metrics, new RegExp(`ingest_refused_before_auth_total\\{reason="apiThrottled"\\} ${60 - unauthenticated}\n`));
});

t.test('terminal routes without a token answer 401, and NUL in a text field 400', async (t) => {
  // A fresh address (the loopback range is all this machine): the previous test's address is throttled.
  const { request } = await import('node:http');
  const call = (path: string, method: string, headers: Record<string, string>, body?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ingest.address().port, path, method, headers, localAddress: '127.0.0.9' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const noToken = await call('/api/v1/terminals/T-1/dispatches', 'GET', {});
  t.equal(noToken.status, 401);
  t.match(JSON.parse(noToken.body), { code: 'ERR_UNAUTHENTICATED' });
  const nul = await call('/api/v1/reports', 'POST', { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    JSON.stringify({ site: 's1', category: 'smell', message: 'gas\u0000 in stairwell' }));
  t.equal(nul.status, 400);
  t.match(JSON.parse(nul.body), { code: 'ERR_VALIDATION', issues: [{ path: '/message', reason: /NUL/ }] });
  const [audit] = await ingest.store.query<{ n: number; status: number }>(`SELECT count(*)::int AS n, max(status) AS status FROM api_audit`);
  t.same(audit, { n: 1, status: 400 }, 'the authenticated refusal is audited');
});
