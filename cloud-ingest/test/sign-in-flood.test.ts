/**
 * Password guessing on the sign-in page is bounded like any other unauthenticated flood (issues 13 and 15):
 * an address whose sign-ins keep failing gets 429 before the password is checked, and only its small share
 * of refused sign-ins is audited; the rest are counted. The person guessed at still sees attempts in the audit.
 */
import t from 'tap';
import { startHttpIngest } from './helpers/http-ingest.js';

const ADMIN = 'admin-token-for-sign-in-flood-0123456789';
const PASSWORD = 'correct horse battery staple';
const { ingest, base } = await startHttpIngest(t, 'signinflood', {
  api: { adminToken: ADMIN },
  flood: { authFailuresPerMinute: 6, authFailureBurst: 10, ingestPerSecond: 50, ingestBurst: 200, junkPerMinute: 1, junkBurst: 3 },
});
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

t.test('wrong passwords from one address: 401 a few times, then 429 unread; the audit holds only a few', async (t) => {
  t.equal((await fetch(`${base}/api/v1/users`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'guard-a', role: 'security', sites: ['site-a'] }) })).status, 201);
  t.equal((await fetch(`${base}/api/v1/users/guard-a/password`, { method: 'PUT', headers: admin, body: JSON.stringify({ password: PASSWORD }) })).status, 204);
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${base}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'guard-a', password: `guess ${i}` }) });
    statuses.push(r.status);
    await r.arrayBuffer();
  }
  // The budget of 10 failures, and the one that finds it empty and blocks the address, are answered 401.
  t.equal(statuses.filter((s) => s === 401).length, 11, 'the failure budget is answered 401');
  t.ok(statuses.slice(11).every((s) => s === 429), 'then 429, the password unread');
  const right = await fetch(`${base}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'guard-a', password: PASSWORD }) });
  t.equal(right.status, 429, 'even the right password waits while the address is blocked');
  const rows = await ingest.store.query<{ target: string; status: number }>(`SELECT target, status FROM api_audit WHERE route = '/auth/sign-in' ORDER BY id`);
  t.equal(rows.length, 3, 'only the address\'s share of refused sign-ins is audited');
  t.ok(rows.every((r) => r.target === 'guard-a' && r.status === 401), 'each names the person guessed at');
});
