/**
 * The alarm page in a real headless Chromium (Debian `chromium` driven by playwright-core): a link to the page
 * without a session leads to sign-in and back; see the alarm in words and its picture, acknowledge and
 * resolve, and see the state change; a viewer gets no action buttons and a write without the CSRF token is
 * refused; a care alarm's place (resident, building, unit) is shown to every guard of the site, its exact
 * position only to the resident's team, and it has no picture panel. The snapshot route is checked over
 * HTTP as well (auth, scoping, bytes).
 */
import t, { type Test } from 'tap';
import { mkdtemp, mkdir, copyFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { MEDIA_DIR } from '@safe-community/testkit';
import { harness, ADMIN_TOKEN } from './api-harness.js';
import { launchChromium, signInWithLink } from './helpers/browser.js';

const snapshots = await mkdtemp(join(tmpdir(), 'snapshots-'));
// One folder per site: an alarm is served only its own site's pictures.
await mkdir(join(snapshots, 'site-a', 'cam-1'), { recursive: true });
const SNAP_FILE = '2026-11-29T09-00-00-000Z-abc123.jpg';
await copyFile(join(MEDIA_DIR, 'bus.jpg'), join(snapshots, 'site-a', 'cam-1', SNAP_FILE));

const h = await harness({ backend: 'pglite', api: { snapshotsDir: snapshots } });
const browser: Browser = await launchChromium();
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

const signedIn = (t: Test, user: string, next: string) => signInWithLink(t, h, browser, user, next);

t.test('in Chromium: the page link leads to sign-in and back; see the alarm and picture, acknowledge, resolve', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const res = await page.goto(`${h.base}/alarms/${alarm.id}`);
  t.equal(res?.status(), 200);
  t.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.waitForURL(/\/sign-in\?next=/);
  t.equal(new URL(page.url()).searchParams.get('next'), `/alarms/${alarm.id}`, 'sent to sign in, with the way back');
  const pw = await h.call('PUT', '/api/v1/users/duty-1/password', ADMIN_TOKEN, { password: 'duty-one-password' });
  t.equal(pw.status, 204);
  await page.fill('#user', 'duty-1');
  await page.fill('#password', 'wrong-password-here');
  await page.click('#password-form button[type=submit]');
  await page.locator('#error').getByText('did not work', { exact: false }).waitFor();
  await page.fill('#password', 'duty-one-password');
  await page.click('#password-form button[type=submit]');
  await page.waitForURL(`${h.base}/alarms/${alarm.id}`);
  await page.locator('#state').getByText('open').waitFor();
  t.equal(await page.textContent('#title'), 'Intrusion · cam-1', 'the kind in words and the device');
  t.equal(await page.textContent('#message'), 'Person in the pool area after hours');
  t.equal(await page.textContent('#who'), 'duty-1 (security)');
  t.equal(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie), '', 'the session cookie is not readable by scripts (HttpOnly)');
  const img = page.locator('#pictures img.picture').first();
  await img.waitFor();
  // The callbacks run in the browser; the DOM types are not in this package's lib, hence the narrow casts.
  await page.waitForFunction(() => {
    const i = (globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null } }).document.querySelector('#pictures img.picture');
    return i !== null && i.complete && i.naturalWidth > 0;
  });
  t.pass('the picture decoded (read with the session cookie)');

  await page.fill('#note', 'Guard Li on the way');
  await page.click('#ack');
  await page.locator('#state').getByText('acknowledged').waitFor();
  t.equal((await h.alarms.get(alarm.id, { user: 'test', role: 'admin', sites: '*' })).state, 'acknowledged', 'stored');
  t.ok(await page.isDisabled('#ack'), 'acknowledge is no longer offered');
  await page.locator('#calls').getByText('acknowledged by duty-1', { exact: false }).waitFor();
  t.match(await page.textContent('#audit'), /duty-1/);

  await page.reload();
  await page.locator('#state').getByText('acknowledged').waitFor();
  t.pass('after a reload the session still holds');

  await page.click('#resolve');
  await page.locator('#state').getByText('resolved').waitFor();
  t.equal((await h.alarms.get(alarm.id, { user: 'test', role: 'admin', sites: '*' })).state, 'resolved');
  t.same(errors, [], 'no script errors in the page');

  await page.click('#signout');
  await page.waitForURL(/\/sign-in$/);
  await page.goto(`${h.base}/alarms/${alarm.id}`);
  await page.waitForURL(/\/sign-in\?next=/);
  t.pass('signed out: the page sends to sign-in again');
});

t.test('in Chromium: a viewer sees the alarm without action buttons; a write without the CSRF token is refused', async (t) => {
  const { page } = await signedIn(t, 'view-1', `/alarms/${plain.id}`);
  await page.locator('#state').getByText('open').waitFor();
  t.equal(await page.textContent('#title'), 'Door held open · G1');
  for (const b of ['#ack', '#dispatch', '#resolve', '#false-alarm']) t.ok(await page.isDisabled(b), `${b} not offered to a viewer`);
  t.notOk(await page.isVisible('#pictures-box'), 'no picture panel for a door alarm without a camera');
  // A forged write from inside the page: the cookie goes along, the CSRF token does not.
  const status = await page.evaluate(async (id) => (await fetch(`/api/v1/alarms/${id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, plain.id);
  t.equal(status, 403);
  t.equal((await h.alarms.get(plain.id, { user: 'test', role: 'admin', sites: '*' })).state, 'open', 'nothing changed');
});

t.test('in Chromium: a care alarm shows the place to every guard, the exact position to the resident\'s team only, and no picture panel', async (t) => {
  const teamUser = await h.call('POST', '/api/v1/users', ADMIN_TOKEN, { id: 'guard-t1', role: 'security', sites: ['site-a'], teams: ['team-1'] });
  t.equal(teamUser.status, 201);
  const saved = await h.call('PUT', '/api/v1/sites/site-a/residents', ADMIN_TOKEN, {
    version: 1, timeZone: 'Asia/Shanghai',
    residents: [{
      id: 'R1', name: 'Resident R1', wearable: 'W-1', building: 'B2', unit: '101',
      consent: { givenAt: new Date(Date.now() - 86_400_000).toISOString(), givenBy: 'Resident R1', scope: ['alerts', 'location'] },
      contacts: [{ name: 'Guard lead', role: 'guard_team', phone: '+86-755-0000-0001', team: 'team-1' }],
      geofence: { polygon: [{ lat: 22.543, lon: 114.057 }, { lat: 22.544, lon: 114.057 }, { lat: 22.544, lon: 114.058 }] },
      quietHours: { start: '22:00', end: '06:00' },
    }],
  });
  t.equal(saved.status, 200);
  const care = await h.alarms.raise({
    site: 'site-a', device: 'W-1', type: 'care.sos', severity: 'critical', message: 'SOS from Resident R1',
    tags: { resident: 'R1', last_lat: '22.543500', last_lon: '114.057500', last_fix_at: new Date().toISOString() },
  });
  const view = async (user: string): Promise<{ title: string; place: string; pictures: boolean }> => {
    const { page } = await signedIn(t, user, `/alarms/${care.id}`);
    await page.locator('#state').getByText('open').waitFor();
    return { title: (await page.textContent('#title')) ?? '', place: (await page.textContent('#place')) ?? '', pictures: await page.isVisible('#pictures-box') };
  };
  const outside = await view('duty-1');
  t.equal(outside.title, 'SOS · Resident R1 · building B2, unit 101', 'what and where, in words');
  t.match(outside.place, /BuildingB2/);
  t.match(outside.place, /Unit101/);
  t.match(outside.place, /ResidentResident R1/);
  t.match(outside.place, /Exact positiononly the resident's guard team/, 'the exact position is withheld from a guard outside the team');
  t.notMatch(outside.place, /22\.5435/);
  t.notOk(outside.pictures, 'no empty picture panel on an SOS');
  const mine = await view('guard-t1');
  t.match(mine.place, /Exact position22\.543500, 114\.057500 at /, 'the resident\'s team sees it');
});
