/**
 * Issue 16 in a real headless Chromium: the alarm page plays the alarm's uploaded clip (a real H.264 MP4,
 * read with the session cookie through range requests) and its currentTime advances; a clip not uploaded
 * yet is named as being uploaded; the page's CSP lets the video through and nothing else breaks.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import type { Harness } from './api-harness.js';
import { launchChromium, signInWithLink } from './helpers/browser.js';
import { apiCall, basic, clipOf, createUser, postAlarmWithClips, smallMp4, startEvidenceIngest, uploadAll } from './helpers/evidence.js';

const { ingest, base } = await startEvidenceIngest(t, 'ev_page');
const authA = basic('edge-a1', await ingest.edges.issue('edge-a1', 'site-a'));
await createUser(base, 'guard-a', 'security', ['site-a']);
const mp4 = await smallMp4(t);
const trigger = randomUUID();
const ready = clipOf(mp4, { trigger, camera: 'cam-door' });
const pending = clipOf(mp4, { trigger, camera: 'cam-lobby' });
const alarm = await postAlarmWithClips(base, authA, 'edge-a1', 'site-a', trigger, [ready, pending]);
const uploaded = await uploadAll(base, ready, 256 * 1024, authA);
if (uploaded.at(-1) !== 201) throw new Error(`the clip was not uploaded: ${uploaded.join(', ')}`);

const browser: Browser = await launchChromium();
t.teardown(() => browser.close());
// The sign-in helper needs only the service's address and an API call as the bootstrap admin.
const service = { base, call: (method: string, path: string, token: string | null, body?: unknown) => apiCall(base, method, path, token, body) } as unknown as Harness;

t.test('the alarm page plays the uploaded clip and names the one still being uploaded', async (t) => {
  const { page, errors } = await signInWithLink(t, service, browser, 'guard-a', `/alarms/${alarm}`);
  const video = page.locator(`video[data-clip="${ready.clip}"]`);
  await video.waitFor({ state: 'attached' });
  t.equal(await video.getAttribute('preload'), 'metadata');
  t.ok(await video.evaluate((v) => (v as unknown as { controls: boolean }).controls), 'with controls');
  await page.locator('.pending-clip').waitFor();
  t.match(await page.locator('#clips').textContent(), /cam-lobby/, 'the pending clip is named by its camera');
  await video.evaluate((v) => { const el = v as unknown as { muted: boolean; play(): Promise<void> }; el.muted = true; return el.play(); });
  await page.waitForFunction((clip) => {
    const v = (globalThis as unknown as { document: { querySelector(s: string): { currentTime: number } | null } }).document.querySelector(`video[data-clip="${clip}"]`);
    return v !== null && v.currentTime > 0.5;
  }, ready.clip, { timeout: 30_000 });
  const state = await video.evaluate((v) => { const el = v as unknown as { currentTime: number; duration: number; videoWidth: number }; return { t: el.currentTime, d: el.duration, w: el.videoWidth }; });
  t.ok(state.t > 0.5, `currentTime advanced (${state.t.toFixed(2)} s)`);
  t.ok(state.d > 3 && state.d < 5, `the 4 s clip's duration is known (${state.d})`);
  t.ok(state.w > 0, 'frames decoded');
  t.same(errors, [], 'no script or CSP errors');
  const audited = await ingest.store.query<{ actor: string }>(`SELECT actor FROM api_audit WHERE route = '/api/v1/alarms/:id/clips/:clip' AND target = $1`, [alarm]);
  t.ok(audited.length >= 1 && audited.every((a) => a.actor === 'guard-a'), 'the view is audited under the guard');
});
