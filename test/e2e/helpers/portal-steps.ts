// What a user does on the portal in the browser tests, the same steps whichever test takes them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { PASSWORD } from '../../helpers/gatehouse.js';
import type { BrowserPortal } from './portal-session.js';

/** The identity route sends one email per user per 10 s (src/identity/mail-throttle.ts). */
const EMAIL_INTERVAL_MS = 10_000;

/** Fills the sign-in form on this page with the test password and submits it. */
export async function submitPassword(page: Page, username = 'john'): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Opens the portal's sign-in page with `target` as rd and signs john in with the password. */
export async function signInWithPassword(page: Page, portal: BrowserPortal, target: string): Promise<void> {
  await page.goto(`${portal.portal}/?rd=${encodeURIComponent(target)}`);
  await submitPassword(page);
}

/** Presses a button that emails an identity link, and returns the link. */
export type EmailLink = (button: RegExp) => Promise<string>;

/**
 * An EmailLink for this page that waits out the identity route's one-email-per-10-s limit rather than test it: one
 * for all the emails a test file asks for, as they all go to the same user.
 */
export function emailLinkOn(page: Page, portal: BrowserPortal): EmailLink {
  let lastEmailAt = 0;
  return async (button) => {
    const wait = lastEmailAt + EMAIL_INTERVAL_MS + 200 - Date.now();
    if (wait > 0) await sleep(wait);
    const before = portal.messageCount();
    await page.getByRole('button', { name: button }).click();
    await page.locator('[role="status"]:visible').first().getByText('We sent you an email').waitFor();
    lastEmailAt = Date.now();
    return portal.identityLink(before);
  };
}
