/**
 * Sign-in for people (issue 15), over real HTTP on PostgreSQL: password and one-time link give an HTTP-only,
 * SameSite session cookie; writes with the cookie need the CSRF token; sessions expire, and end on sign-out,
 * by an admin, or when the user is disabled; bearer tokens keep working for machines; a browser without a
 * session following a picture link is sent to sign in; the live feed gives each user only their sites.
 */
import t from 'tap';
import { SessionStore } from '@safe-community/cloud-ingest';
import { FakeClock } from '@safe-community/testkit';
import { harness, ADMIN_TOKEN } from './api-harness.js';

const h = await harness({ api: { feedPollMs: 100 } });
t.teardown(() => h.close());

const guardToken = await h.user('guard-a', 'security', ['site-a']);
await h.user('guard-b', 'security', ['site-b']);
const PASSWORD = 'correct horse battery';
for (const u of ['guard-a', 'guard-b']) {
  const r = await h.call('PUT', `/api/v1/users/${u}/password`, ADMIN_TOKEN, { password: PASSWORD });
  if (r.status !== 204) throw new Error(`password of ${u} not set: ${r.status} ${JSON.stringify(r.body)}`);
}

async function signIn(body: Record<string, string>): Promise<{ status: number; cookie: string | null; setCookie: string; csrf: string; body: any }> {
  const r = await fetch(`${h.base}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const setCookie = r.headers.get('set-cookie') ?? '';
  const b = await r.json() as { csrf?: string };
  return { status: r.status, setCookie, cookie: setCookie ? setCookie.split(';')[0]! : null, csrf: b.csrf ?? '', body: b };
}

const withCookie = (cookie: string, extra: Record<string, string> = {}): Record<string, string> => ({ cookie, ...extra });

t.test('password sign-in: one refusal for a wrong password and an unknown user; the cookie is HTTP-only and SameSite', async (t) => {
  const wrong = await signIn({ user: 'guard-a', password: 'not the password' });
  const unknown = await signIn({ user: 'nobody', password: PASSWORD });
  t.equal(wrong.status, 401);
  t.equal(unknown.status, 401);
  t.equal(wrong.body.message, unknown.body.message, 'the same answer: a caller cannot tell which users exist');
  t.equal(wrong.cookie, null, 'no cookie for a refused sign-in');

  // A form on another site can post text/plain (no CORS preflight); it must not sign anyone in (login CSRF).
  const form = await fetch(`${h.base}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ user: 'guard-a', password: PASSWORD }) });
  t.ok(form.status === 400 || form.status === 415, `a text/plain post is refused (${form.status})`);
  t.equal(form.headers.get('set-cookie'), null, 'and sets no cookie');

  const ok = await signIn({ user: 'guard-a', password: PASSWORD });
  t.equal(ok.status, 200);
  t.match(ok.setCookie, /^sc_session=ss_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=4319\d/);
  t.notMatch(JSON.stringify(ok.body), /ss_/, 'the session secret is only in the cookie');
  t.match(ok.body.user, { user: 'guard-a', role: 'security', sites: ['site-a'] });
  const audit = await h.store.query(`SELECT actor, target, status, code, detail FROM api_audit WHERE route = '/auth/sign-in' ORDER BY id`, []);
  t.match(audit, [
    { actor: null, target: 'guard-a', status: 401, code: 'ERR_UNAUTHENTICATED' },
    { actor: null, target: 'nobody', status: 401 },
    { actor: null, target: null, status: 400 },
    { actor: 'guard-a', target: 'guard-a', status: 200, code: null },
  ], 'every sign-in, allowed or refused, is audited with the user it was for');
  t.notMatch(JSON.stringify(audit), /correct horse|not the password/, 'never the password');
  const rows = await h.store.query(`SELECT id_hash FROM staff_sessions WHERE user_id = 'guard-a'`, []);
  t.notOk(rows.some((r) => ok.cookie!.includes(String(r.id_hash))), 'only a hash of the secret is stored');
});

t.test('with the cookie: reads work, a write needs the CSRF token', async (t) => {
  const s = await signIn({ user: 'guard-a', password: PASSWORD });
  const alarm = await h.alarms.raise({ site: 'site-a', device: 'FP1', type: 'fire.alarm', severity: 'critical', message: 'smoke' });
  const read = await fetch(`${h.base}/api/v1/alarms/${alarm.id}`, { headers: withCookie(s.cookie!) });
  t.equal(read.status, 200);
  const body = await read.json() as { context: { title: string } };
  t.match(body.context.title, /^Fire alarm · FP1/, 'the alarm answers with its context in words');

  const ack = (headers: Record<string, string>) => fetch(`${h.base}/api/v1/alarms/${alarm.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
  const noCsrf = await ack(withCookie(s.cookie!));
  t.equal(noCsrf.status, 403);
  t.equal(((await noCsrf.json()) as { code: string }).code, 'ERR_FORBIDDEN');
  t.equal((await ack(withCookie(s.cookie!, { 'x-csrf-token': 'x'.repeat(s.csrf.length) }))).status, 403, 'a wrong token is refused');
  t.equal((await h.alarms.get(alarm.id, { user: 't', role: 'admin', sites: '*' })).state, 'open', 'nothing changed');
  const ok = await ack(withCookie(s.cookie!, { 'x-csrf-token': s.csrf }));
  t.equal(ok.status, 200);
  t.equal(((await ok.json()) as { acknowledgedBy: string }).acknowledgedBy, 'guard-a');
  const audit = await h.store.query(`SELECT actor, status FROM api_audit WHERE route = '/api/v1/alarms/:id/ack' AND target = $1 ORDER BY id`, [alarm.id]);
  t.same(audit.map((r) => [r.actor, r.status]), [['guard-a', 403], ['guard-a', 403], ['guard-a', 200]], 'refused and allowed writes are audited under the person');
});

t.test('a bearer token is judged alone, a stray cookie does not widen it', async (t) => {
  const s = await signIn({ user: 'guard-a', password: PASSWORD });
  const r = await fetch(`${h.base}/api/v1/me`, { headers: { authorization: 'Bearer sc_wrong', cookie: s.cookie! } });
  t.equal(r.status, 401);
  t.equal((await h.call('GET', '/api/v1/me', guardToken)).body.user, 'guard-a', 'the machine path is unchanged');
});

t.test('one-time link: issued by an admin only, works once, carries the token in the fragment', async (t) => {
  const refused = await h.call('POST', '/api/v1/users/guard-a/sign-in-link', guardToken, {});
  t.equal(refused.status, 403, 'a guard cannot issue links');
  const issued = await h.call('POST', '/api/v1/users/guard-a/sign-in-link', ADMIN_TOKEN, { ttlMinutes: 30, next: '/console' });
  t.equal(issued.status, 201);
  t.match(issued.body.url, new RegExp(`^${h.base}/sign-in\\?next=%2Fconsole#link=sl_`));
  const token = String(issued.body.url).split('#link=')[1]!;
  const first = await signIn({ link: token });
  t.equal(first.status, 200);
  t.equal(first.body.user.user, 'guard-a');
  t.equal((await signIn({ link: token })).status, 401, 'a link works once');
  t.equal((await h.call('POST', '/api/v1/users/nobody/sign-in-link', ADMIN_TOKEN, {})).status, 404);
});

t.test('sessions end: sign-out, an admin revoking them, disabling the user', async (t) => {
  const me = async (cookie: string) => (await fetch(`${h.base}/api/v1/me`, { headers: withCookie(cookie) })).status;
  const a = await signIn({ user: 'guard-a', password: PASSWORD });
  t.equal(await me(a.cookie!), 200);
  const out = await fetch(`${h.base}/auth/sign-out`, { method: 'POST', headers: withCookie(a.cookie!) });
  t.equal(out.status, 204);
  t.match(out.headers.get('set-cookie') ?? '', /^sc_session=; .*Max-Age=0/, 'the browser is told to drop the cookie');
  t.equal(await me(a.cookie!), 401, 'a signed-out session is refused even if the cookie is replayed');

  const b1 = await signIn({ user: 'guard-a', password: PASSWORD });
  const b2 = await signIn({ user: 'guard-a', password: PASSWORD });
  const revoked = await h.call('DELETE', '/api/v1/users/guard-a/sessions', ADMIN_TOKEN);
  t.equal(revoked.status, 200);
  t.ok(revoked.body.revoked >= 2, 'every open session of the user');
  t.equal(await me(b1.cookie!), 401);
  t.equal(await me(b2.cookie!), 401);

  const c = await signIn({ user: 'guard-b', password: PASSWORD });
  t.equal(await me(c.cookie!), 200);
  t.equal((await h.call('POST', '/api/v1/users/guard-b/disable', ADMIN_TOKEN)).status, 200);
  t.equal(await me(c.cookie!), 401, 'a disabled user\'s session stops at once');
  t.equal((await signIn({ user: 'guard-b', password: PASSWORD })).status, 401, 'and they cannot sign in again');
});

t.test('a session expires; an unused link expires', async (t) => {
  const clock = new FakeClock(Date.now());
  const sessions = new SessionStore(h.store, { ttlSec: 600, clock });
  const s = await sessions.signInWithPassword('guard-a', PASSWORD);
  t.ok(await sessions.lookup(s.secret), 'valid now');
  clock.skip(599_000);
  t.ok(await sessions.lookup(s.secret), 'valid just before its end');
  clock.skip(2000);
  t.equal(await sessions.lookup(s.secret), null, 'expired');
  const link = await sessions.issueLink('guard-a', 'admin', 60);
  clock.skip(61_000);
  await t.rejects(sessions.signInWithLink(link.token), { code: 'ERR_UNAUTHENTICATED' }, 'an expired link is refused');
});

t.test('a browser following a picture link without a session is sent to sign in and back', async (t) => {
  const alarm = await h.alarms.raise({ site: 'site-a', device: 'CAM9', type: 'intrusion.zone', severity: 'major', message: 'x' });
  const path = `/alarms/${alarm.id}/snapshot`;
  const browser = await fetch(`${h.base}${path}`, { headers: { accept: 'text/html,image/*' }, redirect: 'manual' });
  t.equal(browser.status, 303);
  t.equal(browser.headers.get('location'), `/sign-in?next=${encodeURIComponent(path)}`);
  t.equal((await fetch(`${h.base}${path}`)).status, 401, 'a program still gets the 401');
  const page = await fetch(`${h.base}/alarms/${alarm.id}`);
  t.equal(page.status, 200, 'the page itself is public: it carries no data');
  t.notMatch(await page.text(), /intrusion|CAM9/);
});

t.test('the live feed: each subscriber gets the changes of their own sites only', async (t) => {
  const a = await signIn({ user: 'guard-a', password: PASSWORD });
  // guard-b was disabled above; a fresh user of site-b watches with a bearer token (machines may listen too).
  const bToken = await h.user('guard-b2', 'security', ['site-b']);
  const listen = async (headers: Record<string, string>) => {
    const ctl = new AbortController();
    const r = await fetch(`${h.base}/api/v1/alarms/events`, { headers, signal: ctl.signal });
    t.equal(r.status, 200);
    t.match(r.headers.get('content-type'), /^text\/event-stream/);
    const reader = r.body!.getReader();
    let text = '';
    const read = async (until: (s: string) => boolean, ms = 10_000): Promise<string> => {
      const deadline = Date.now() + ms;
      while (!until(text) && Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((res) => setTimeout(() => res(null), deadline - Date.now()))]);
        if (!chunk || chunk.done) break;
        text += Buffer.from(chunk.value).toString('utf8');
      }
      return text;
    };
    return { read, close: () => ctl.abort(), text: () => text };
  };
  const sa = await listen(withCookie(a.cookie!));
  const sb = await listen({ authorization: `Bearer ${bToken}` });
  t.teardown(() => { sa.close(); sb.close(); });
  await sa.read((s) => s.includes('event: ready'));
  await sb.read((s) => s.includes('event: ready'));
  t.equal(h.api.feed.streams, 2);
  const alarm = await h.alarms.raise({ site: 'site-a', device: 'G7', type: 'door.forced', severity: 'critical', message: 'forced' });
  const got = await sa.read((s) => s.includes(alarm.id));
  t.match(got, new RegExp(`event: alarm\\nid: \\d+\\ndata: \\{"id":"${alarm.id}"`), 'the site-a guard gets the new alarm');
  await h.alarms.acknowledge(alarm.id, { user: 'x', role: 'security', sites: ['site-a'] });
  await sa.read((s) => /"state":"acknowledged"/.test(s));
  t.match(sa.text(), /"state":"acknowledged"/, 'and its acknowledgement');
  // A change at site-b after both: once site-b's guard has it, site-a's stream would have had the first by then.
  const other = await h.alarms.raise({ site: 'site-b', device: 'G1', type: 'door.forced', severity: 'critical', message: 'b' });
  await sb.read((s) => s.includes(other.id));
  t.notMatch(sb.text(), new RegExp(alarm.id), 'the site-b guard never saw the site-a alarm');
  t.notMatch(sa.text(), new RegExp(other.id), 'nor site-a the site-b alarm');
});
