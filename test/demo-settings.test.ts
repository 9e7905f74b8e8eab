/**
 * `npm start` honours the ingest's settings (issue 15: the demo built its ingest config without the
 * environment): configFromEnv() of ADMIN_TOKEN, NOTIFY_WEBHOOK_URL/TOKEN and SNAPSHOTS_DIR reaches the demo's
 * ingest; alarm calls go to the webhook as well as to the printer; with ADMIN_TOKEN no demo admin is made,
 * the demo guard still is, and their printed link signs them in.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '@safe-community/cloud-ingest';
import { waitFor } from '@safe-community/testkit';
import { startSystem } from '../demo/system.js';

const ADMIN = 'demo-settings-admin-token-0123456789';
const posts: Array<{ auth: string | undefined; body: { channel?: string; alarm?: { type?: string } } }> = [];
const hook = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
  req.on('end', () => {
    posts.push({ auth: req.headers.authorization, body: JSON.parse(body) as (typeof posts)[number]['body'] });
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
const hookPort = (hook.address() as { port: number }).port;
const snaps = await mkdtemp(join(tmpdir(), 'demo-snaps-'));
const printed: string[] = [];
const sys = await startSystem({
  port: 0, databaseUrl: null, camera: false,
  ingestSettings: configFromEnv({ ADMIN_TOKEN: ADMIN, NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/calls`, NOTIFY_WEBHOOK_TOKEN: 'hook-secret', SNAPSHOTS_DIR: snaps }),
  notifier: { notify: async (alarm) => { printed.push(alarm.type); } },
});
t.teardown(async () => {
  await sys.stop();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
  await rm(snaps, { recursive: true, force: true });
});

t.test('the settings reach the demo ingest', async (t) => {
  t.equal(sys.ingest.config.api.adminToken, ADMIN);
  t.equal(sys.ingest.config.api.snapshotsDir, snaps, 'SNAPSHOTS_DIR wins over the edge folder default');
  const me = await fetch(`${sys.apiUrl}/api/v1/me`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(me.status, 200, 'ADMIN_TOKEN signs the admin in');
  t.same(sys.logins.map((l) => l.user), ['guard-1'], 'with ADMIN_TOKEN only the guard is made');
});

t.test('an alarm call goes to the webhook and to the printer', async (t) => {
  await waitFor(() => sys.sims.all.every((d) => sys.agent.devices.online(d.id)), { what: 'devices online' });
  await sys.sims.gates.G3.door('forced');
  await waitFor(() => posts.find((p) => p.body.alarm?.type === 'door.forced'), { what: 'the webhook call', timeoutMs: 15_000 });
  t.equal(posts[0]?.auth, 'Bearer hook-secret', 'with NOTIFY_WEBHOOK_TOKEN');
  await waitFor(() => printed.includes('door.forced'), { what: 'the printed call' });
  t.pass('both');
});

t.test('the printed link signs the guard in', async (t) => {
  const link = sys.logins[0]!.link;
  t.match(link, new RegExp(`^${sys.apiUrl}/sign-in\\?next=%2Fconsole#link=sl_`));
  const r = await fetch(`${sys.apiUrl}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: link.split('#link=')[1] }) });
  t.equal(r.status, 200);
  t.match(((await r.json()) as { user: { user: string; sites: string[] } }).user, { user: 'guard-1', sites: ['sunrise-gardens'] });
});
