// Issue 11 §3 in a real browser: headless Chromium with a CDP virtual authenticator enrols a key, makes recovery
// codes on the settings page through the emailed identity check (shown once, downloaded as a text file, copied),
// then, with the key unplugged, signs in with the password and a recovery code and lands on the target; the used
// code is refused the second time. Each page is saved under test-output/screenshots/ to be looked at.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { readMessages } from '../helpers/mail.js';
import { appPage, onPage, screenshot, startPortalInChromium } from './helpers/browser.js';
import type { PortalInChromium, VirtualKeys } from './helpers/browser.js';
import type { BrowserPortal } from './helpers/portal-session.js';
import { emailLinkOn, signInWithPassword, type EmailLink } from './helpers/portal-steps.js';
import { join } from 'node:path';

/** two_factor in the test rules. */
const SECURE_APP = 'https://secure.example.com/vault?tab=recovery';
const CODE = /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/;

describe('browser: recovery codes, from making them to signing in with one (Chromium, virtual authenticator)', () => {
  let chromium: PortalInChromium;
  let portal: BrowserPortal;
  let page: Page;
  let keys: VirtualKeys;
  let key: string;
  let emailLink: EmailLink;
  let codes: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    chromium = await startPortalInChromium({
      app: appPage('Vault'),
      errors: pageErrors,
      context: { acceptDownloads: true, viewport: { width: 1024, height: 900 } },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    ({ portal, page, keys, key } = chromium);
    emailLink = emailLinkOn(page, portal);
  });

  afterAll(async () => {
    await chromium?.close();
  });

  const url = (path: string) => `${portal.portal}${path}`;
  const status = () => page.locator('[role="status"]:visible').first();

  it('enrols a key through the emailed link', async () => {
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    const link = await emailLink(/Register a security key/);
    await page.goto(link);
    await onPage(page, 'Confirm your identity');
    await page.getByLabel('Name for the new key').fill('Only key');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: 'Security key registered' }).waitFor();
    // Signed in again with both factors: the elevation of the enrolment is spent with that session.
    await page.goto(url('/logout'));
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.waitForURL(SECURE_APP);
  });

  it('makes ten codes on the settings page after the emailed identity check, and shows them once', async () => {
    await page.goto(url('/settings'));
    await onPage(page, 'Security keys');
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    assert.match((await page.locator('#recovery-summary').textContent()) ?? '', /no recovery codes yet/);
    await screenshot(page, 'recovery-01-settings-none');

    await page.getByRole('button', { name: 'Make recovery codes' }).click();
    await page.locator('#recovery-elevation').waitFor();
    const link = await emailLink(/^Email me a link$/);
    assert.match(link, /\/identity\/confirm\?token=/);
    assert.equal(new URL(link).searchParams.get('then'), '/settings?recovery=generate');
    await page.goto(link);
    await onPage(page, 'Confirm your identity');
    await page.getByRole('button', { name: 'Confirm and go back' }).click();
    await page.waitForURL(url('/settings'));
    await onPage(page, 'Security keys');
    await status().getByText('Identity confirmed').waitFor();

    await page.getByRole('button', { name: 'Make recovery codes' }).click();
    await page.locator('#recovery-new').waitFor();
    codes = await page.locator('#recovery-code-list code').allTextContents();
    assert.equal(codes.length, 10);
    for (const code of codes) assert.match(code, CODE);
    assert.equal(new Set(codes).size, 10);
    await screenshot(page, 'recovery-02-codes-shown');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download as text file' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'gatehouse-recovery-codes.txt');
    const file = readFileSync((await download.path())!, 'utf8');
    for (const code of codes) assert.ok(file.includes(code), `${code} is in the file`);
    assert.match(file, /Account: john/);

    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await status().getByText('Copied').waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), codes.join('\n'));

    await page.getByRole('button', { name: 'Done, I saved them' }).click();
    assert.equal(await page.locator('#recovery-code-list code').count(), 0);
    // Never shown again: not on the page once reloaded, only how many are left.
    await page.reload();
    await onPage(page, 'Security keys');
    assert.match((await page.locator('#recovery-summary').textContent()) ?? '', /10 of 10 recovery codes left/);
    const html = await page.content();
    for (const code of codes) assert.equal(html.includes(code), false);
    const mail = readMessages(join(portal.gatehouse.dir, 'notification.txt')).at(-1);
    assert.match(mail?.subject ?? '', /New recovery codes were made/);
  });

  it('with the key lost, signs in with the password and a recovery code and lands on the target', async () => {
    await keys.remove(key);
    await page.goto(url('/logout'));
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(codes[0]!.toUpperCase());
    await screenshot(page, 'recovery-03-code-form');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(SECURE_APP);
    const mail = readMessages(join(portal.gatehouse.dir, 'notification.txt')).at(-1);
    assert.match(mail?.subject ?? '', /A recovery code was used/);
    assert.match(mail?.body ?? '', /9 unused recovery codes left/);
  });

  it('refuses the used code the second time; another one works, and the settings page counts eight left', async () => {
    await page.goto(url('/logout'));
    await signInWithPassword(page, portal, SECURE_APP);
    await onPage(page, 'Security key');
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(codes[0]!);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await status().getByText('not valid, or it was already used').waitFor();
    await screenshot(page, 'recovery-04-code-used');
    assert.equal(new URL(page.url()).hostname, 'auth.example.com');

    await page.getByLabel('Recovery code').fill(codes[1]!);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(SECURE_APP);
    await page.goto(url('/settings'));
    await onPage(page, 'Security keys');
    assert.match((await page.locator('#recovery-summary').textContent()) ?? '', /8 of 10 recovery codes left/);
    // After a recovery code, a new key is enrolled through the usual emailed link: the button is there.
    await page.getByRole('button', { name: /Register a security key/ }).waitFor();
  });

  it('raised no script error and no CSP violation on any page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
