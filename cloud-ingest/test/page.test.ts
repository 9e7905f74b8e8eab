/**
 * The alarm page in a real headless Chromium (Debian `chromium` driven by playwright-core): sign in with a
 * token, see the alarm and its snapshot, acknowledge and resolve, and see the state change; a care alarm's
 * last position shown to the resident's team, withheld from other security staff. The snapshot route is
 * checked over HTTP as well (auth, scoping, bytes).
 */
import t from 'tap';
import { mkdtemp, mkdir, copyFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { MEDIA_DIR } from '@safe-community/testkit';
import { harness, ADMIN_TOKEN } from './api-harness.js';

const snapshots = await mkdtemp(join(tmpdir(), 'snapshots-'));
// One folder per site: an alarm is served only its own site's pictures.
await mkdir(join(snapshots, 'site-a', 'cam-1'), { recursive: true });
const SNAP_FILE = '2026-11-29T09-00-00-000Z-abc123.jpg';
await copyFile(join(MEDIA_DIR, 'bus.jpg'), join(snapshots, 'site-a', 'cam-1', SNAP_FILE));

const h = await harness({ backend: 'pglite', api: { snapshotsDir: snapshots } });
const browser: Browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
t.teardown(async () => {
  await browser.close();
  await h.close();
  await rm(snapshots, { recursive: true, force: true });
});

const security = await h.user('duty-1', 'security', ['site-a']);
const viewer = await h.user('view-1', 'viewer', ['site-a']);
const other = await h.user('sec-b', 'security', ['site-b']);
const alarm = await h.alarms.raise({
  site: 'site-a', device: 'cam-1', type: 'intrusion.zone', severity: 'critical', message: 'Person in the pool area after hours',
  evidence: [{ kind: 'snapshot', ref: `snapshot:cam-1/${SNAP_FILE}` }],
});
const plain = await h.alarms.raise({ site: 'site-a', device: 'G1', type: 'door.held', severity: 'minor', message: 'door held open' });

t.test('the snapshot route serves the JPEG to a token of the site, and nothing to anyone else', async (t) => {
  const url = `${h.base}/alarms/${alarm.id}/snapshot`;
  const ok = await fetch(url, { headers: { authorization: `Bearer ${viewer}` } });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('content-type'), 'image/jpeg');
  t.same(Buffer.from(await ok.arrayBuffer()), await readFile(join(MEDIA_DIR, 'bus.jpg')), 'the stored bytes');
  t.equal((await fetch(url)).status, 401);
  const b = await fetch(url, { headers: { authorization: `Bearer ${other}` } });
  t.equal(b.status, 404);
  t.equal(((await b.json()) as { code: string }).code, 'ERR_ALARM_NOT_FOUND');
  const none = await fetch(`${h.base}/alarms/${plain.id}/snapshot`, { headers: { authorization: `Bearer ${viewer}` } });
  t.equal(none.status, 404);
  t.equal(((await none.json()) as { code: string }).code, 'ERR_SNAPSHOT_NOT_FOUND');
});

t.test('a snapshot reference that points outside the folder is refused', async (t) => {
  const evil = await h.alarms.raise({
    site: 'site-a', device: 'cam-2', type: 'intrusion.zone', severity: 'major', message: 'x',
    evidence: [{ kind: 'snapshot', ref: 'snapshot:../../etc/passwd.jpg' }],
  });
  const r = await fetch(`${h.base}/alarms/${evil.id}/snapshot`, { headers: { authorization: `Bearer ${security}` } });
  t.equal(r.status, 404);
  t.equal(((await r.json()) as { code: string }).code, 'ERR_SNAPSHOT_NOT_FOUND');
});

t.test('in Chromium: sign in, see the alarm and snapshot, acknowledge, resolve', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  const res = await page.goto(`${h.base}/alarms/${alarm.id}`);
  t.equal(res?.status(), 200);
  t.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.locator('#login').waitFor({ state: 'visible' });
  t.notOk(await page.locator('#summary').isVisible(), 'no alarm data before a token is given');

  await page.fill('#token', security);
  await page.click('#token-form button[type=submit]');
  await page.locator('#state').getByText('open').waitFor();
  t.equal(await page.textContent('#title'), 'intrusion.zone at cam-1');
  t.equal(await page.textContent('#message'), 'Person in the pool area after hours');
  t.equal(await page.textContent('#who'), 'duty-1 (security)');
  const img = page.locator('#snapshot-img');
  await img.waitFor();
  // The callbacks run in the browser; the DOM types are not in this package's lib, hence the narrow casts.
  t.ok(await img.evaluate((el) => { const i = el as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; }), 'the snapshot image decoded');
  t.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('safe-community.token')), security, 'the token is kept in sessionStorage');

  await page.fill('#note', 'Guard Li on the way');
  await page.click('#ack');
  await page.locator('#state').getByText('acknowledged').waitFor();
  t.equal((await h.alarms.get(alarm.id, { user: 'test', role: 'admin', sites: '*' })).state, 'acknowledged', 'stored');
  t.ok(await page.isDisabled('#ack'), 'acknowledge is no longer offered');
  t.match(await page.textContent('#audit'), /duty-1/);
  await page.screenshot({ path: join(tmpdir(), 'alarm-page.png'), fullPage: true });

  await page.reload();
  await page.locator('#state').getByText('acknowledged').waitFor();
  t.pass('after a reload the page signs in again from sessionStorage');

  await page.click('#resolve');
  await page.locator('#state').getByText('resolved').waitFor();
  t.equal((await h.alarms.get(alarm.id, { user: 'test', role: 'admin', sites: '*' })).state, 'resolved');
  t.same(errors, [], 'no script errors in the page');
});

t.test('in Chromium: a viewer sees the alarm but acknowledging shows the refusal; a bad token asks again', async (t) => {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${h.base}/alarms/${plain.id}`);
  await page.fill('#token', viewer);
  await page.click('#token-form button[type=submit]');
  await page.locator('#state').getByText('open').waitFor();
  await page.click('#ack');
  await page.locator('#error').getByText('ERR_FORBIDDEN', { exact: false }).waitFor();
  t.equal((await h.alarms.get(plain.id, { user: 'test', role: 'admin', sites: '*' })).state, 'open', 'nothing changed');
  t.equal(await page.textContent('#state'), 'open');

  await page.click('#signout');
  await page.fill('#token', 'sc_wrong-token');
  await page.click('#token-form button[type=submit]');
  await page.locator('#error').getByText('not accepted', { exact: false }).waitFor();
  t.ok(await page.isVisible('#login'), 'the token form is shown again');
  t.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('safe-community.token')), null, 'the bad token is forgotten');
});

t.test('in Chromium: a care alarm shows the last position to the resident\'s team only', async (t) => {
  const teamUser = await h.call('POST', '/api/v1/users', ADMIN_TOKEN, { id: 'guard-t1', role: 'security', sites: ['site-a'], teams: ['team-1'] });
  const saved = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, {
    version: 1, timeZone: 'Asia/Shanghai',
    residents: [{
      id: 'R1', name: 'Resident R1', wearable: 'W-1',
      consent: { givenAt: new Date(Date.now() - 86_400_000).toISOString(), givenBy: 'Resident R1', scope: ['alerts', 'location'] },
      contacts: [{ name: 'Guard lead', role: 'guard_team', phone: '+86-755-0000-0001', team: 'team-1' }],
      geofence: { polygon: [{ lat: 22.543, lon: 114.057 }, { lat: 22.544, lon: 114.057 }, { lat: 22.544, lon: 114.058 }] },
      quietHours: { start: '22:00', end: '06:00' },
    }],
  });
  t.equal(saved.status, 200);
  const care = await h.alarms.raise({
    site: 'site-a', device: 'W-1', type: 'care.wandering', severity: 'major', message: 'Resident R1 left the geofence at night',
    tags: { resident: 'R1', last_lat: '22.543500', last_lon: '114.057500', last_fix_at: new Date().toISOString() },
  });
  const facts = async (token: string): Promise<string> => {
    const context = await browser.newContext();
    t.teardown(() => context.close());
    const page = await context.newPage();
    await page.goto(`${h.base}/alarms/${care.id}`);
    await page.fill('#token', token);
    await page.click('#token-form button[type=submit]');
    await page.locator('#state').getByText('open').waitFor();
    t.equal(await page.textContent('#message'), 'Resident R1 left the geofence at night');
    return (await page.textContent('#facts')) ?? '';
  };
  const outside = await facts(security);
  t.match(outside, /ResidentR1/, 'security outside the team: the resident');
  t.match(outside, /Last positionwithheld/, 'but the position is withheld');
  t.notMatch(outside, /22\.5435/);
  const mine = await facts(String(teamUser.body.token));
  t.match(mine, /Last position22\.543500, 114\.057500 at /, 'the resident\'s team sees it');
});
