/**
 * The alarm console in a real headless Chromium (PGlite): alarms of the user's site appear without a reload,
 * most severe first, with one tone per new critical alarm; another site's never; filters by building and
 * kind; an alarm acknowledged and resolved elsewhere changes and then leaves the list live.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { harness } from './api-harness.js';
import { launchChromium, signInWithLink } from './helpers/browser.js';

const h = await harness({ backend: 'pglite', api: { feedPollMs: 200 } });
const browser: Browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await h.close();
});
await h.user('duty-1', 'security', ['site-a']);

t.test('in Chromium: the console orders by severity then age, filters, and follows changes live', async (t) => {
  const { page, errors } = await signInWithLink(t, h, browser, 'duty-1', '/console');
  await page.waitForSelector('body[data-live="on"]');
  const tag = (b: string) => ({ building: b });
  const minor = await h.alarms.raise({ site: 'site-a', device: 'S9', type: 'env.threshold', severity: 'minor', message: 'pm2.5 high', tags: tag('B7') });
  const major = await h.alarms.raise({ site: 'site-a', device: 'G9', type: 'door.forced', severity: 'major', message: 'forced', tags: tag('B8') });
  const crit = await h.alarms.raise({ site: 'site-a', device: 'FP9', type: 'fire.alarm', severity: 'critical', message: 'smoke', tags: tag('B8') });
  await h.alarms.raise({ site: 'site-b', device: 'FP1', type: 'fire.alarm', severity: 'critical', message: 'another site' });
  const rowOf = (id: string) => page.locator(`#alarms tr[data-alarm-id="${id}"]`);
  for (const a of [minor, major, crit]) await rowOf(a.id).waitFor();
  const order = await page.locator('#alarms tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { getAttribute(n: string): string }).getAttribute('data-alarm-id')));
  t.ok(order.indexOf(crit.id) < order.indexOf(major.id) && order.indexOf(major.id) < order.indexOf(minor.id), 'critical, then major, then minor');
  t.notOk(await page.locator('#alarms').getByText('another site').count(), 'no alarm of another site');
  t.equal(await page.getAttribute('body', 'data-beeps'), '1', 'one tone: only the critical alarm of this site');

  await page.selectOption('#f-building', 'B8');
  await rowOf(minor.id).waitFor({ state: 'detached' });
  t.equal(await rowOf(crit.id).count(), 1, 'building B8 keeps its alarms');
  await page.selectOption('#f-kind', 'door.forced');
  await rowOf(crit.id).waitFor({ state: 'detached' });
  t.equal(await page.locator('#alarms tr').count(), 1, 'building and kind together: the forced door only');
  await page.selectOption('#f-kind', '');
  await page.selectOption('#f-building', '');

  const guard = { user: 'test', role: 'security' as const, sites: ['site-a'] };
  await h.alarms.acknowledge(crit.id, guard);
  await rowOf(crit.id).getByText('acknowledged').waitFor();
  await h.alarms.resolve(crit.id, guard, { note: 'drill' });
  await rowOf(crit.id).waitFor({ state: 'detached' });
  t.pass('acknowledged and resolved elsewhere: the row changes, then leaves, without a reload');
  t.same(errors, [], 'no script errors');
});
