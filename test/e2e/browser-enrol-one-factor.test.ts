// Issue 11 item 4 (Authelia #13066 / #9664): a user registers a security key, and then signs in with it as a
// passkey, on a Gatehouse where no access rule and not the default policy asks for two factors. Real Chromium with a
// CDP virtual authenticator, the real portal over https, real Redis and PostgreSQL, the emailed identity check.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { authRequest } from '../helpers/flows.js';
import { appPage, onPage, screenshot, startPortalInChromium } from './helpers/browser.js';
import type { PortalInChromium, VirtualKeys } from './helpers/browser.js';
import type { BrowserPortal } from './helpers/portal-session.js';
import { emailLinkOn, submitPassword } from './helpers/portal-steps.js';

/** one_factor in these rules; nothing is two_factor. */
const APP = 'https://app.example.com/inbox';

describe('browser: a key and passkey sign-in when no rule needs two factors (Chromium, virtual authenticator)', () => {
  let chromium: PortalInChromium;
  let portal: BrowserPortal;
  let context: BrowserContext;
  let page: Page;
  let keys: VirtualKeys;
  let key: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    chromium = await startPortalInChromium({
      config: {
        webauthn: { enable_passkey_login: true },
        access_control: {
          default_policy: 'one_factor',
          rules: [
            { domain: 'public.example.com', policy: 'bypass' },
            { domain: 'app.example.com', policy: 'one_factor' },
          ],
        },
      },
      // The protected app need not exist: the browser arriving at its URL is what is asserted.
      app: appPage('App'),
      errors: pageErrors,
    });
    ({ portal, context, page, keys, key } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
  });

  const url = (path: string) => `${portal.portal}${path}`;

  it('the configuration has no two_factor rule, and the portal still offers passkey sign-in', () => {
    const { access_control } = portal.gatehouse.loaded.config;
    assert.equal(access_control.default_policy, 'one_factor');
    assert.ok(access_control.rules.every((rule) => rule.policy !== 'two_factor'));
  });

  it('back at the portal after signing in, the page a signed-in user sees links to "Security keys", which opens the settings', async () => {
    await page.goto(url('/'));
    await onPage(page, 'Sign in');
    await submitPassword(page);
    // Signed in with no target: off to default_redirection_url, as Authelia does; the portal shows the rest.
    await page.waitForURL('https://www.example.com/');
    await page.goto(url('/'));
    await onPage(page, 'You are signed in');
    await screenshot(page, 'enrol-1fa-01-signed-in');
    await page.getByRole('link', { name: 'Security keys' }).click();
    await onPage(page, 'Security keys');
    assert.equal(new URL(page.url()).pathname, '/settings');
  });

  it('registers a key through the emailed identity check, as on any Gatehouse', async () => {
    const link = await emailLinkOn(page, portal)(/Register a security key/);
    assert.ok(link.startsWith(`${portal.portal}/webauthn/register?token=`), link);
    await page.goto(link);
    await onPage(page, 'Confirm your identity');
    await page.getByLabel('Name for the new key').fill('Laptop passkey');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: 'Security key registered' }).waitFor();
    await screenshot(page, 'enrol-1fa-02-registered');
    const [stored] = await portal.gatehouse.gatehouse.adapters.storage.listWebAuthnCredentials('john');
    assert.equal(stored?.description, 'Laptop passkey');
    assert.equal(stored?.discoverable, true, 'a passkey: it can sign in without a username');
    assert.equal((await keys.credentials(key)).length, 1);
  });

  it('signs out, then signs in with the passkey alone and reaches the app; the session passes authz', async () => {
    await page.goto(url('/logout'));
    await page.goto(url(`/?rd=${encodeURIComponent(APP)}`));
    await page.waitForLoadState('networkidle');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(APP);
    // The session cookie the browser now holds opens the one_factor app at the authz endpoint.
    const cookie = (await context.cookies(portal.portal)).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await authRequest(portal.gatehouse, APP, { cookie });
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'john');
    assert.equal((await keys.credentials(key))[0]?.signCount, 2, 'registered, then signed in once');
  });

  it('the pages raised no script or CSP error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
