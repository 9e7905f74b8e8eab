/** Chromium for the page tests (Debian's /usr/bin/chromium through playwright-core), and signing in as a person would. */
import type { Test } from 'tap';
import { chromium, type Browser, type Page, type BrowserContext } from 'playwright-core';
import { ADMIN_TOKEN, type Harness } from '../api-harness.js';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Autoplay without a click: the console's tone for a critical alarm is then played as in a used browser.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** A fresh browser context signed in through a one-time link the admin issued, landed on `next`; collects script errors. */
export async function signInWithLink(t: Test, h: Harness, browser: Browser, user: string, next: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const issued = await h.call('POST', `/api/v1/users/${user}/sign-in-link`, ADMIN_TOKEN, { next });
  if (issued.status !== 201) throw new Error(`no link for ${user}: ${issued.status}`);
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[34]/.test(m.text())) errors.push(m.text()); });
  await page.goto(String(issued.body.url));
  await page.click('#use-link');
  await page.waitForURL(`${h.base}${next}`);
  return { context, page, errors };
}
