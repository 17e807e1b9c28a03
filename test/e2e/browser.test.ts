// A real browser (SPEC §5, issue 3): headless Chromium with CDP virtual authenticators signs in, registers keys
// through the emailed link, passes the second factor, manages keys and signs in with a passkey, against an https
// portal on auth.example.com. Each page is saved under test-output/screenshots/ to be looked at.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { appPage, onPage, screenshot, startPortalInChromium } from './helpers/browser.js';
import type { PortalInChromium, VirtualKeys } from './helpers/browser.js';
import type { BrowserPortal } from './helpers/portal-session.js';
import { emailLinkOn, signInWithPassword, submitPassword, type EmailLink } from './helpers/portal-steps.js';

/** two_factor in the test rules. */
const SECURE_APP = 'https://secure.example.com/dashboard?tab=keys';
/** one_factor in the test rules. */
const APP = 'https://app.example.com/inbox';

describe('browser: security keys from enrolment to passkey sign-in (Chromium, virtual authenticators)', () => {
  let chromium: PortalInChromium;
  let portal: BrowserPortal;
  let context: BrowserContext;
  let page: Page;
  let keys: VirtualKeys;
  let fido2Key: string;
  let emailLink: EmailLink;
  /** The first registration link, used once by the enrolment test. */
  let firstLink = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    chromium = await startPortalInChromium({
      config: { webauthn: { enable_passkey_login: true } },
      app: appPage('Protected app'),
      errors: pageErrors,
    });
    ({ portal, context, page, keys, key: fido2Key } = chromium);
    emailLink = emailLinkOn(page, portal);
  });

  afterAll(async () => {
    await chromium?.close();
  });

  const url = (path: string) => `${portal.portal}${path}`;
  const status = () => page.locator('[role="status"]:visible').first();

  async function registerKey(link: string, name: string) {
    await page.goto(link);
    await onPage(page, 'Confirm your identity');
    await page.getByLabel('Name for the new key').fill(name);
    await page.getByRole('button', { name: 'Register', exact: true }).click();
  }

  it('offers passkey autofill (conditional mediation) on the username field where the browser supports it', async () => {
    // Chromium reports conditional mediation as unavailable while CDP virtual authenticators are on, so this is
    // checked on a second tab without them: the page asks for passkey options at once and waits, saying nothing.
    const plain = await context.newPage();
    let optionRequests = 0;
    plain.on('request', (request) => {
      if (request.url().endsWith('/api/webauthn/passkey/options')) optionRequests += 1;
    });
    plain.on('pageerror', (error) => pageErrors.push(error.message));
    await plain.goto(url(`/?rd=${encodeURIComponent(APP)}`));
    await plain.waitForLoadState('networkidle');
    assert.equal(await plain.evaluate('PublicKeyCredential.isConditionalMediationAvailable()'), true);
    assert.equal(optionRequests, 1);
    assert.equal(await plain.locator('#sign-in-status').textContent(), '');
    await plain.close();
  });

  it('signs in with a password and is asked for a key the user does not have yet', async () => {
    await page.goto(url(`/?rd=${encodeURIComponent(SECURE_APP)}`));
    await screenshot(page, '01-sign-in');
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    assert.equal(
      new URL(page.url()).searchParams.get('rd'),
      SECURE_APP,
      'the target is carried to the second-factor page',
    );
    await screenshot(page, '02-second-factor-no-key');
  });

  it('emails a registration link; opening it and pressing Register enrols the key under its name', async () => {
    const link = await emailLink(/Register a security key/);
    firstLink = link;
    await screenshot(page, '03-registration-email-sent');
    assert.ok(link.startsWith(`${portal.portal}/webauthn/register?token=`), link);

    await page.goto(link);
    await onPage(page, 'Confirm your identity');
    await screenshot(page, '04-confirm-identity');
    await registerKey(link, 'Blue key');
    await page.getByRole('heading', { name: 'Security key registered' }).waitFor();
    await screenshot(page, '05-key-registered');
    assert.equal((await keys.credentials(fido2Key)).length, 1);
  });

  it('"Continue signing in" after registering leads back to the target the user was heading for, through the new key', async () => {
    const next = page.locator('#registered .actions a').first();
    assert.equal(await next.textContent(), 'Continue signing in', 'the first action, and it says what comes next');
    assert.match((await next.getAttribute('class')) ?? '', /\bprimary\b/);
    assert.match((await page.locator('#register-lead').textContent()) ?? '', /touch it once more/);
    await page.getByRole('link', { name: 'Continue signing in' }).click();
    await onPage(page, 'Security key');
    assert.equal(new URL(page.url()).searchParams.get('rd'), SECURE_APP);
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.waitForURL(SECURE_APP);
  });

  it('signs out, signs in again and passes the second factor with the key, landing on the target', async () => {
    await page.goto(url('/logout'));
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    await screenshot(page, '06-second-factor');
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.waitForURL(SECURE_APP);
  });

  it('registers a second key on a U2F authenticator (fixing a taken name without touching the key twice) and uses it', async () => {
    await page.goto(url('/settings'));
    await onPage(page, 'Security keys');
    await screenshot(page, '07-settings-one-key');
    const link = await emailLink(/Register a security key/);
    // Opened in a browser that is signed out: sign in first, then the link's page comes back by itself.
    await page.goto(url('/logout'));
    await page.goto(link);
    await onPage(page, 'Sign in');
    await submitPassword(page);
    await onPage(page, 'Confirm your identity');
    assert.equal(page.url(), link);

    // Only the U2F key answers from now on: the first one stays plugged in but untouched.
    await keys.setPresence(fido2Key, false);
    const u2fKey = await keys.add('u2f');
    await registerKey(link, 'Blue key');
    await status().getByText('That name is already used').waitFor();
    await screenshot(page, '08-register-name-taken');
    await page.getByLabel('Name for the new key').fill('Travel key');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: 'Security key registered' }).waitFor();
    assert.equal((await keys.credentials(u2fKey)).length, 1, 'one ceremony for both attempts');

    await page.goto(url('/logout'));
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.waitForURL(SECURE_APP);
    assert.equal((await keys.credentials(u2fKey))[0]?.signCount, 2, 'the U2F key signed in');
    // Unplugged: a U2F key cannot hold a passkey, and left in it would answer the passkey request with "no".
    await keys.remove(u2fKey);
    await keys.setPresence(fido2Key, true);
  });

  it('renames one key and deletes another on the settings page', async () => {
    await page.goto(url('/settings'));
    const items = page.locator('li.key');
    await assert.doesNotReject(items.nth(1).waitFor());
    assert.equal(await items.count(), 2);
    await screenshot(page, '09-settings-two-keys');

    const blue = items.filter({ hasText: 'Blue key' });
    await blue.getByRole('button', { name: 'Rename' }).click();
    await blue.getByLabel('New name').fill('Everyday key');
    await screenshot(page, '10-settings-rename');
    await blue.getByRole('button', { name: 'Save' }).click();
    await status().getByText('Renamed to “Everyday key”.').waitFor();

    const travel = items.filter({ hasText: 'Travel key' });
    await travel.getByRole('button', { name: 'Delete' }).click();
    await screenshot(page, '11-settings-delete-confirm');
    await travel.getByRole('button', { name: 'Delete' }).click();
    await status().getByText('“Travel key” was deleted.').waitFor();
    await screenshot(page, '12-settings-after');

    await page.reload();
    assert.deepEqual(await page.locator('li.key .key-name').allTextContents(), ['Everyday key']);
    // The same page on a phone, in dark mode.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, '13-settings-phone-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1024, height: 800 });
    const stored = await portal.gatehouse.gatehouse.adapters.storage.listWebAuthnCredentials('john');
    assert.deepEqual(
      stored.map((c) => c.description),
      ['Everyday key'],
    );
  });

  it('signs in with a passkey from the sign-in page, without a password', async () => {
    await page.goto(url('/logout'));
    await page.goto(url(`/?rd=${encodeURIComponent(APP)}`));
    // The passkey module is loaded by sign-in.js on demand: wait until nothing is left to load.
    await page.waitForLoadState('networkidle');
    await screenshot(page, '14-sign-in-passkey');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(APP);
  });

  it('a used registration link says so as the page opens, with "Email me a new link" as the primary action', async () => {
    await page.goto(firstLink);
    await onPage(page, 'This link was already used');
    const newLink = page.getByRole('button', { name: 'Email me a new link' });
    assert.equal(await newLink.isEnabled(), true);
    assert.match((await newLink.getAttribute('class')) ?? '', /\bprimary\b/);
    assert.equal(await page.getByLabel('Name for the new key').count(), 0, 'no form that could only fail');
    await screenshot(page, '15-link-already-used');
  });

  it('another user\'s link says so as the page opens, and "Sign in as someone else" comes back to it', async () => {
    const other = await context.newPage();
    other.setDefaultTimeout(8_000);
    other.on('pageerror', (error) => pageErrors.push(error.message));
    await other.goto(url('/logout'));
    await other.goto(url(`/?rd=${encodeURIComponent(APP)}`));
    await submitPassword(other, 'harry');
    await other.waitForURL(APP);
    await other.goto(firstLink);
    await other.getByRole('heading', { name: 'This link is for another user' }).waitFor();
    await screenshot(other, '16-link-other-user');
    await other.getByRole('link', { name: 'Sign in as someone else' }).click();
    await other.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    await other.waitForLoadState('load');
    await submitPassword(other);
    // John is back on his own (used) link.
    await other.getByRole('heading', { name: 'This link was already used' }).waitFor();
    await other.close();
  });

  /** A session reached with the password only (the one-factor app): changing a key then needs a fresh proof. */
  async function passwordOnlySettings() {
    await page.goto(url('/logout'));
    await signInWithPassword(page, portal, APP);
    await page.waitForURL(APP);
    await page.goto(url('/settings'));
    await onPage(page, 'Security keys');
  }

  /** Asks for the emailed proof from the "fresh check" panel and confirms it; back on the settings page. */
  async function proveByEmail() {
    await page.locator('#elevation-needed').waitFor();
    const link = await emailLink(/Email me a link/);
    assert.ok(link.startsWith(`${portal.portal}/identity/confirm?token=`), link);
    await page.goto(link);
    await onPage(page, 'Confirm your identity');
    assert.equal(await page.getByLabel('Name for the new key').count(), 0, 'the link registers nothing');
    await screenshot(page, '17-confirm-only');
    await page.getByRole('button', { name: 'Confirm and go back' }).click();
    await page.waitForURL(url('/settings'));
    await onPage(page, 'Security keys');
  }

  it('renaming a key from a password-only session: the emailed link only confirms, then returns to the rename', async () => {
    await passwordOnlySettings();
    const item = page.locator('li.key').first();
    await item.getByRole('button', { name: 'Rename' }).click();
    await item.getByLabel('New name').fill('Spare key');
    await item.getByRole('button', { name: 'Save' }).click();
    await proveByEmail();
    await status().getByText('Identity confirmed. Press Save').waitFor();
    assert.equal(
      await item.getByLabel('New name').inputValue(),
      'Spare key',
      'the rename form is open again with the new name',
    );
    await screenshot(page, '18-rename-resumed');
    await item.getByRole('button', { name: 'Save' }).click();
    await status().getByText('Renamed to “Spare key”.').waitFor();
    assert.equal((await keys.credentials(fido2Key)).length, 1, 'no key was registered on the way');
  });

  it('deleting a lost key from a password-only session: the emailed link only confirms, then returns to the delete', async () => {
    await passwordOnlySettings();
    const item = page.locator('li.key').first();
    await item.getByRole('button', { name: 'Delete' }).click();
    await item.getByRole('button', { name: 'Delete' }).click();
    await proveByEmail();
    await status().getByText('Identity confirmed. Press Delete').waitFor();
    await item.getByRole('button', { name: 'Delete' }).click();
    await status().getByText('“Spare key” was deleted.').waitFor();
    assert.deepEqual(await portal.gatehouse.gatehouse.adapters.storage.listWebAuthnCredentials('john'), []);
  });

  it('the pages raised no script errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});
