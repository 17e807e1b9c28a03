// Step-up in a real browser (issue 11 item 2): Chromium with a CDP virtual authenticator, an https portal, and a
// protected app whose every request is put to Gatehouse's forward-auth endpoint as Traefik or Caddy would (the
// browser's cookie, X-Forwarded-*; the answer relayed as it is). The app's rule has a short max_auth_age: once the
// key use is older, the next visit goes to the portal, which asks for the key only, then returns to the app.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page, Route } from 'playwright-core';
import { DEFAULT_ACCESS_CONTROL } from '../helpers/gatehouse.js';
import { onPage, screenshot, startPortalInChromium, type PortalInChromium } from './helpers/browser.js';
import type { BrowserPortal } from './helpers/portal-session.js';
import { emailLinkOn, submitPassword, type EmailLink } from './helpers/portal-steps.js';

const VAULT = 'https://vault.example.com/secrets?item=42';
/** Short, so the test can outwait it; long enough for a touch of the key and the redirect that follows. */
const MAX_AUTH_AGE_SECONDS = 3;

describe('browser: step-up with max_auth_age (Chromium, virtual authenticator, forward-auth in front of the app)', () => {
  let chromium: PortalInChromium;
  let portal: BrowserPortal;
  let page: Page;
  let emailLink: EmailLink;
  const pageErrors: string[] = [];
  /** What forward-auth answered for each visit to the app, in order. */
  const authzAnswers: number[] = [];

  /** The proxy in front of the app: forward-auth decides; a pass shows the app, anything else is relayed. */
  async function protectedApp(route: Route): Promise<void> {
    const request = route.request();
    const url = new URL(request.url());
    const headers = await request.allHeaders();
    const answer = await fetch(`${portal.gatehouse.url}/api/authz/forward-auth`, {
      redirect: 'manual',
      headers: {
        'X-Forwarded-Method': request.method(),
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': url.host,
        'X-Forwarded-Uri': `${url.pathname}${url.search}`,
        Accept: headers.accept ?? 'text/html',
        ...(headers.cookie ? { Cookie: headers.cookie } : {}),
      },
    });
    authzAnswers.push(answer.status);
    if (answer.status === 200) {
      const user = answer.headers.get('remote-user') ?? '';
      await route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: `<!doctype html><title>Vault</title><h1>Vault</h1><p id="user">${user}</p>`,
      });
      return;
    }
    const location = answer.headers.get('location');
    await route.fulfill({
      status: answer.status,
      headers: location ? { location } : {},
      contentType: 'text/plain',
      body: await answer.text(),
    });
  }

  beforeAll(async () => {
    chromium = await startPortalInChromium({
      config: {
        access_control: {
          ...DEFAULT_ACCESS_CONTROL,
          rules: [
            { domain: 'vault.example.com', policy: 'two_factor', max_auth_age: `${MAX_AUTH_AGE_SECONDS}s` },
            ...DEFAULT_ACCESS_CONTROL.rules,
          ],
        },
      },
      app: protectedApp,
      appHost: 'vault.example.com',
      errors: pageErrors,
    });
    ({ portal, page } = chromium);
    emailLink = emailLinkOn(page, portal);
  });

  afterAll(async () => {
    await chromium?.close();
  });

  it('signs in with the password and a newly registered key, and lands on the app', async () => {
    await page.goto(VAULT);
    // forward-auth sent the anonymous visitor to the portal, with the app as rd.
    await page.getByLabel('Username').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('rd'), VAULT);
    await submitPassword(page);
    await onPage(page, 'Security key');
    // The key is enrolled through the emailed link, then used as the second factor.
    await page.goto(await emailLink(/Register a security key/));
    await onPage(page, 'Confirm your identity');
    await page.getByLabel('Name for the new key').fill('Blue key');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: 'Security key registered' }).waitFor();
    await page.getByRole('link', { name: 'Continue signing in' }).click();
    await onPage(page, 'Security key');
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.waitForURL(VAULT);
    assert.equal(await page.locator('#user').textContent(), 'john');
    assert.equal(authzAnswers.at(-1), 200);
  });

  it('once the key use is older than max_auth_age, the app sends the browser to the portal, which asks for the key only', async () => {
    await sleep((MAX_AUTH_AGE_SECONDS + 1) * 1000);
    await page.goto(VAULT);
    await onPage(page, 'Security key');
    assert.equal(authzAnswers.at(-1), 302, 'forward-auth answered as for a missing second factor');
    assert.equal(new URL(page.url()).searchParams.get('rd'), VAULT, 'the portal keeps the target');
    await page.getByText('This page needs a recent security-key check').waitFor();
    assert.equal(await page.locator('input[type="password"]').count(), 0, 'never the password again');
    assert.equal(await page.getByRole('button', { name: 'Use your security key' }).count(), 1);
    await screenshot(page, 'step-up-key-only');
  });

  it('touching the key returns the browser to the app, which now passes', async () => {
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.waitForURL(VAULT);
    await page.getByRole('heading', { name: 'Vault' }).waitFor();
    assert.equal(await page.locator('#user').textContent(), 'john');
    assert.equal(authzAnswers.at(-1), 200);
  });

  it('the pages raised no script errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});
