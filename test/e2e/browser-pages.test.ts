// The portal's pages as Chromium draws them (issue 8, "Portal pages"): rendered views served under the portal's
// CSP with the real static files (helpers/static-portal.ts), at phone width and in both themes. Layout, focus
// visibility, keyboard and what a page does before its scripts have run. Screenshots under test-output/screenshots/.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openTab, screenshot, VirtualKeys } from './helpers/browser.js';
import { ORIGIN, serveStaticPortal } from './helpers/static-portal.js';
import { renderSignIn } from '../../views/pages.js';
import { renderSecondFactor, renderSettings, type SecurityKeyView } from '../../views/security-keys.js';

const LONG_NAME = 'MyVeryLongSecurityKeyNameWithoutAnySpacesThatKeepsGoingOnAndOn64';
const USER = { displayName: 'John Doe', username: 'john' };

function key(id: number, name: string, overrides: Partial<SecurityKeyView> = {}): SecurityKeyView {
  return {
    id,
    name,
    createdAt: new Date('2025-03-01T10:00:00Z'),
    lastUsedAt: null,
    u2f: false,
    passkey: true,
    cloneWarning: false,
    ...overrides,
  };
}

/** WCAG relative luminance and contrast of two opaque sRGB colours. */
type Rgba = [number, number, number, number];
function luminance([r, g, b]: Rgba): number {
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}
function contrast(a: Rgba, b: Rgba): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (high + 0.05) / (low + 0.05);
}
function parseColours(css: string): Rgba[] {
  return [...css.matchAll(/rgba?\(([^)]+)\)/g)].map((m) => {
    const parts = m[1]!
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return [parts[0]!, parts[1]!, parts[2]!, parts[3] ?? 1];
  });
}
/** A translucent colour as it shows over an opaque background. */
function over([r, g, b, a]: Rgba, [br, bg, bb]: Rgba): Rgba {
  return [r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a), 1];
}

describe('browser: portal pages at phone width, in both themes, with the keyboard (Chromium)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  /** Scripts held back by the "before the scripts load" test. */
  let holdScripts: Promise<void> | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
    // Reduced motion: the focus ring's transition would otherwise be measured half-drawn.
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, reducedMotion: 'reduce' });
    await serveStaticPortal(context, {
      pages: {
        '/': renderSignIn({ rememberMeEnabled: true, passkeyEnabled: true }),
        '/second-factor': renderSecondFactor({ ...USER, hasKeys: true }),
        '/settings': renderSettings({
          ...USER,
          keys: [key(1, LONG_NAME, { model: 'YubiKey 5 Series' }), key(2, 'Blue key', { passkey: false })],
        }),
      },
      api: (method, path) => {
        if (method === 'GET' && path === '/api/state')
          return {
            status: 200,
            body: { status: 'OK', data: { username: 'john', authentication_level: 1, elevated: false } },
          };
        if (method === 'PUT' && path.startsWith('/api/webauthn/credentials/'))
          return { status: 200, body: { status: 'OK', data: {} } };
        if (method === 'POST' && path === '/api/identity/start') {
          return {
            status: 429,
            body: {
              status: 'KO',
              message: 'An email was sent a moment ago. Check your inbox, or try again in a few seconds.',
            },
          };
        }
        if (method === 'POST' && path === '/api/webauthn/authentication/options') {
          // A credential no key present holds: the browser refuses at once.
          return {
            status: 200,
            body: {
              status: 'OK',
              data: {
                challenge: 'dGhpcy1pcy1hLXRlc3QtY2hhbGxlbmdlLTEyMzQ1Njc4',
                rpId: 'auth.example.com',
                timeout: 60000,
                userVerification: 'discouraged',
                allowCredentials: [{ id: 'bm90LWEtcmVnaXN0ZXJlZC1rZXk', type: 'public-key', transports: ['usb'] }],
              },
            },
          };
        }
        return undefined;
      },
      delay: (file) => (file.endsWith('.js') ? holdScripts : undefined),
    });
    page = await openTab(context, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
  });

  const pageWidth = () => page.evaluate<number>('document.documentElement.scrollWidth');

  for (const scheme of ['light', 'dark'] as const) {
    it(`a 64-character key name without spaces stays inside a 390 px page (${scheme}), rename and delete open`, async () => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${ORIGIN}/settings`);
      await page.waitForLoadState('load');
      assert.equal(await pageWidth(), 390);
      const item = page.locator('li.key').first();
      await item.getByRole('button', { name: 'Rename' }).click();
      assert.equal(await pageWidth(), 390, 'rename form open');
      await item.getByRole('button', { name: 'Cancel' }).click();
      await item.getByRole('button', { name: 'Delete' }).click();
      assert.equal(await pageWidth(), 390, 'delete question open');
      await item.getByRole('button', { name: 'Cancel' }).click();
      const other = page.locator('li.key').nth(1);
      await other.getByRole('button', { name: 'Rename' }).click();
      await other.getByLabel('New name').fill(`${LONG_NAME.slice(0, 60)}Two`);
      await other.getByRole('button', { name: 'Save' }).click();
      await page.locator('#settings-status').getByText('Renamed to').waitFor();
      assert.equal(await pageWidth(), 390, 'the status line naming the key');
      await screenshot(page, `pages-settings-long-name-${scheme}`);
    });
  }

  for (const scheme of ['light', 'dark'] as const) {
    it(`every focus ring contrasts at least 3:1 with the card (${scheme})`, async () => {
      await page.emulateMedia({ colorScheme: scheme });
      for (const path of ['/', '/settings']) {
        await page.goto(`${ORIGIN}${path}`);
        await page.waitForLoadState('networkidle');
        const card = parseColours(
          await page.evaluate<string>('getComputedStyle(document.querySelector("main.card")).backgroundColor'),
        )[0]!;
        const seen = new Set<string>();
        for (let step = 0; step < 14; step += 1) {
          await page.keyboard.press('Tab');
          const ring = await page.evaluate<
            { label: string; boxShadow: string; outlineStyle: string; outlineColor: string } | undefined
          >(`(() => {
            const element = document.activeElement;
            if (!element || element === document.body) return undefined;
            const style = getComputedStyle(element);
            const label = element.tagName.toLowerCase() + '#' + element.id + '.' + element.className + ' ' + (element.textContent ?? '').trim().slice(0, 20);
            return { label, boxShadow: style.boxShadow, outlineStyle: style.outlineStyle, outlineColor: style.outlineColor };
          })()`);
          if (!ring || seen.has(ring.label)) continue;
          seen.add(ring.label);
          // Browser-drawn rings ("auto") are the browser's two-tone ring; ours are drawn in CSS and measured here.
          const colours =
            ring.boxShadow !== 'none'
              ? parseColours(ring.boxShadow)
              : ring.outlineStyle !== 'none' && ring.outlineStyle !== 'auto'
                ? parseColours(ring.outlineColor)
                : [];
          if (ring.outlineStyle === 'auto' && ring.boxShadow === 'none') continue;
          assert.ok(colours.length > 0, `${path} ${ring.label}: a visible focus ring (${JSON.stringify(ring)})`);
          const outer = over(colours.at(-1)!, card);
          const ratio = contrast(outer, card);
          assert.ok(ratio >= 3, `${path} ${ring.label} (${scheme}): focus ring contrast ${ratio.toFixed(2)}:1`);
        }
        assert.ok(seen.size >= 3, `${path}: tabbed through ${seen.size} elements`);
      }
    });
  }

  it('Escape closes the rename form and puts focus back on Rename', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${ORIGIN}/settings`);
    await page.waitForLoadState('networkidle');
    const item = page.locator('li.key').nth(1);
    await item.getByRole('button', { name: 'Rename' }).click();
    await item.getByLabel('New name').fill('Something else');
    await page.keyboard.press('Escape');
    assert.equal(await item.locator('[data-part="rename"]').isHidden(), true);
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.dataset.action'), 'rename');
    await item.getByRole('button', { name: 'Delete' }).click();
    await page.keyboard.press('Escape');
    assert.equal(await item.locator('[data-part="delete"]').isHidden(), true, 'and the delete question');
  });

  it('before its scripts run, the sign-in page posts nothing on Enter and its buttons are disabled', async () => {
    let release!: () => void;
    holdScripts = new Promise((resolve) => {
      release = resolve;
    });
    const posts: string[] = [];
    const onRequest = (request: { method(): string; url(): string }) => {
      if (request.method() === 'POST') posts.push(request.url());
    };
    page.on('request', onRequest);
    try {
      // Module scripts hold DOMContentLoaded back: wait for the form itself.
      await page.goto(`${ORIGIN}/`, { waitUntil: 'commit' });
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign in', exact: true }).isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: 'Sign in with a passkey' }).isDisabled(), true);
      await page.getByLabel('Username').fill('john');
      await page.getByLabel('Password').fill('secret');
      await page.getByLabel('Password').press('Enter');
      await page.waitForTimeout(300);
      assert.deepEqual(posts, [], 'no native form post');
      assert.equal(new URL(page.url()).pathname, '/');
      release();
      await page.getByRole('button', { name: 'Sign in', exact: true }).and(page.locator(':enabled')).waitFor();
      await page.getByRole('button', { name: 'Sign in with a passkey' }).and(page.locator(':enabled')).waitFor();
      // The settings page likewise: no button looks usable before its script can act on it.
      holdScripts = new Promise((resolve) => {
        release = resolve;
      });
      await page.goto(`${ORIGIN}/settings`, { waitUntil: 'commit' });
      await page.getByRole('button', { name: 'Register a security key' }).waitFor();
      for (const name of ['Register a security key', 'Rename', 'Delete']) {
        assert.equal(await page.getByRole('button', { name, exact: true }).first().isDisabled(), true, name);
      }
      release();
      await page.getByRole('button', { name: 'Rename', exact: true }).first().and(page.locator(':enabled')).waitFor();
    } finally {
      release?.();
      holdScripts = undefined;
      page.off('request', onRequest);
    }
  });

  it('a throttled "email me a link" is information, not an error', async () => {
    await page.goto(`${ORIGIN}/settings`);
    await page.waitForLoadState('networkidle');
    await page.getByRole('button', { name: 'Register a security key' }).click();
    const status = page.locator('#settings-status');
    await status.getByText('An email was sent a moment ago').waitFor();
    assert.equal(await status.getAttribute('data-kind'), 'info');
  });

  it('a key the browser refuses at once is named as not registered, not as "cancelled or timed out"', async () => {
    const keys = await VirtualKeys.attach(context, page);
    const id = await keys.add('ctap2');
    try {
      await page.goto(`${ORIGIN}/second-factor`);
      await page.waitForLoadState('networkidle');
      await page.getByRole('button', { name: 'Use your security key' }).click();
      const status = page.locator('#second-factor-status');
      await status.getByText('not registered for your account').waitFor();
      assert.equal(await status.getAttribute('data-kind'), 'error');
      await screenshot(page, 'pages-second-factor-unknown-key');
    } finally {
      await keys.remove(id);
    }
  });

  it('a browser without WebAuthn is told so, instead of being told to touch a key', async () => {
    const plain = await context.newPage();
    plain.setDefaultTimeout(8_000);
    plain.on('pageerror', (error) => pageErrors.push(error.message));
    // What an old or locked-down browser looks like to the page's scripts.
    await plain.addInitScript('delete window.PublicKeyCredential');
    try {
      await plain.goto(`${ORIGIN}/second-factor`);
      await plain.getByText('This browser cannot use security keys.').waitFor();
      assert.equal(await plain.getByText('Insert your security key').isVisible(), false);
      assert.equal(await plain.getByRole('button', { name: 'Use your security key' }).isVisible(), false);
      await screenshot(plain, 'pages-second-factor-no-webauthn');
      await plain.goto(`${ORIGIN}/`);
      await plain.getByText('This browser cannot use security keys.').waitFor();
      assert.equal(await plain.getByRole('button', { name: 'Sign in with a passkey' }).isVisible(), false);
      assert.equal(
        await plain.getByRole('button', { name: 'Sign in', exact: true }).isEnabled(),
        true,
        'the password still works',
      );
    } finally {
      await plain.close();
    }
  });

  it('the pages raised no script errors and no CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});
