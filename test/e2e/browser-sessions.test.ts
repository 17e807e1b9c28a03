// Issue 11 §1 in a real browser: two Chromium contexts (two devices) sign in as the same user; the first lists both
// sessions on "Your sessions", signs the other out with its "Sign out" button, and the other device is signed out
// (its next visit lands on the sign-in page). Then "Sign out everywhere else". Screenshots under test-output/.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { appPage, launchChromium, onPage, openTab, routeApps, screenshot } from './helpers/browser.js';
import { startBrowserPortal, type BrowserPortal } from './helpers/portal-session.js';
import { signInWithPassword } from './helpers/portal-steps.js';

const APP = 'https://app.example.com/inbox';

describe('browser: "Your sessions" lists two devices and signs the other out (Chromium)', () => {
  let portal: BrowserPortal;
  let browser: Browser;
  const devices: { context: BrowserContext; page: Page }[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    portal = await startBrowserPortal();
    browser = await launchChromium();
    for (const userAgent of [undefined, 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0']) {
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 1024, height: 800 },
        userAgent,
      });
      // The protected app need not exist: the browser arriving there is enough.
      await routeApps(context, appPage('App'));
      devices.push({ context, page: await openTab(context, pageErrors) });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  const url = (path: string) => `${portal.portal}${path}`;

  async function signIn(page: Page) {
    await signInWithPassword(page, portal, APP);
    await page.waitForURL(APP);
  }

  async function openSessions(page: Page) {
    await page.goto(url('/settings/sessions'));
    await onPage(page, 'Your sessions');
  }

  it('lists both sessions, "This device" first, with browser and system', async () => {
    const [first, second] = devices as [(typeof devices)[0], (typeof devices)[0]];
    await signIn(first.page);
    await signIn(second.page);
    await openSessions(first.page);
    const items = first.page.locator('#session-list > li');
    assert.equal(await items.count(), 2);
    assert.match((await items.nth(0).textContent()) ?? '', /This device/);
    assert.match((await items.nth(0).textContent()) ?? '', /Headless Chrome \d+ on Linux/);
    assert.match((await items.nth(1).textContent()) ?? '', /Firefox 133 on Linux/);
    assert.match((await items.nth(1).textContent()) ?? '', /one factor/);
    assert.equal(await first.page.getByRole('button', { name: 'Sign out everywhere else' }).isVisible(), true);
    await screenshot(first.page, 'sessions-01-two-devices');
  });

  it('"Sign out" on the other session signs that browser out', async () => {
    const [first, second] = devices as [(typeof devices)[0], (typeof devices)[0]];
    const other = first.page.locator('#session-list > li:not([data-current])');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await first.page.getByText('That session is signed out.').waitFor();
    assert.equal(await first.page.locator('#session-list > li').count(), 1);
    assert.equal(await first.page.getByRole('button', { name: 'Sign out everywhere else' }).isVisible(), false);
    await screenshot(first.page, 'sessions-02-other-signed-out');

    // The other device: its cookie no longer opens anything, and the portal asks it to sign in.
    await second.page.goto(url('/settings/sessions'));
    await second.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    // And this device still is signed in, after a reload.
    await openSessions(first.page);
    assert.equal(await first.page.locator('#session-list > li').count(), 1);
  });

  it('"Sign out everywhere else" signs out every other browser', async () => {
    const [first, second] = devices as [(typeof devices)[0], (typeof devices)[0]];
    await signIn(second.page);
    await openSessions(first.page);
    assert.equal(await first.page.locator('#session-list > li').count(), 2);
    await first.page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await first.page.getByText('Signed out 1 other session.').waitFor();
    await second.page.goto(url('/settings/sessions'));
    await second.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    await openSessions(first.page);
    assert.equal(await first.page.locator('#session-list > li').count(), 1);
    assert.deepEqual(pageErrors, []);
  });
});
