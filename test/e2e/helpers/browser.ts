// Headless Chromium (Debian's package, never a downloaded browser) driven by playwright-core, with CDP virtual
// authenticators standing in for security keys.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type CDPSession,
  type Page,
  type Route,
} from 'playwright-core';
import { startBrowserPortal, type BrowserPortal } from './portal-session.js';

export const CHROMIUM_PATH = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join('test-output', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Every *.example.com host is this machine: the TLS proxy answers for the portal.
      '--host-resolver-rules=MAP *.example.com 127.0.0.1, MAP example.com 127.0.0.1',
    ],
  });
}

/** The host the TLS proxy answers for: every other host is an app the portal protects. */
const PORTAL_HOST = 'auth.example.com';

/** An app's answer to one request the browser makes to it. */
export type AppRoute = (route: Route) => Promise<void>;

/** A stand-in app: a plain page under this heading, for tests that only assert the browser arrived at the app. */
export function appPage(heading: string): AppRoute {
  return (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: `<!doctype html><title>App</title><h1>${heading}</h1>`,
    });
}

/**
 * The protected apps need not exist: `app` answers for every host but the portal's, or for `host` alone (so that
 * nothing but that app is intercepted).
 */
export async function routeApps(context: BrowserContext, app: AppRoute, host?: string): Promise<void> {
  await context.route((url) => (host === undefined ? url.hostname !== PORTAL_HOST : url.hostname === host), app);
}

/** Refusals the flows provoke on purpose (401, 403, 409) are logged by the browser too; CSP violations are not those. */
const REFUSED_REQUEST = /^Failed to load resource: the server responded with a status of 4\d\d/;

/** A new tab that waits 8 s at most, its script errors and console errors (but refusals) collected into `errors`. */
export async function openTab(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(8_000);
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !REFUSED_REQUEST.test(message.text())) errors.push(message.text());
  });
  return page;
}

/** The protocols a CDP virtual authenticator can speak: a FIDO2 key with resident keys, or an old U2F one. */
export type KeyProtocol = 'ctap2' | 'u2f';

export class VirtualKeys {
  private constructor(private readonly cdp: CDPSession) {}

  static async attach(context: BrowserContext, page: Page): Promise<VirtualKeys> {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    return new VirtualKeys(cdp);
  }

  /** Plugs in a key that answers every request at once (the user "touches" it immediately). */
  async add(protocol: KeyProtocol): Promise<string> {
    const fido2 = protocol === 'ctap2';
    const { authenticatorId } = await this.cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol,
        transport: 'usb',
        hasResidentKey: fido2,
        hasUserVerification: fido2,
        isUserVerified: fido2,
        automaticPresenceSimulation: true,
      },
    });
    return authenticatorId;
  }

  /** Unplugs a key. */
  async remove(authenticatorId: string): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  }

  /** Whether a key answers by itself; a key that does not stays silent, as one left untouched. */
  async setPresence(authenticatorId: string, enabled: boolean): Promise<void> {
    await this.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
  }

  async credentials(
    authenticatorId: string,
  ): Promise<Array<{ credentialId: string; isResidentCredential: boolean; signCount: number }>> {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId });
    return credentials;
  }
}

/** A portal and a Chromium tab on it with one FIDO2 key plugged in: what the key-flow tests share. */
export interface PortalInChromium {
  portal: BrowserPortal;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  keys: VirtualKeys;
  /** The FIDO2 key plugged in from the start. */
  key: string;
  /** Closes the browser, then the portal. */
  close(): Promise<void>;
}

export interface PortalInChromiumOptions {
  /** Gatehouse configuration, on top of what startBrowserPortal sets. */
  config?: Record<string, unknown>;
  /** What every host but the portal answers, or `appHost` alone (see routeApps). */
  app: AppRoute;
  /** The one host `app` answers for, so that nothing else is intercepted. */
  appHost?: string;
  /** Collects the tab's script and console errors (see openTab). */
  errors: string[];
  /** Context options over the defaults: the proxy's self-signed certificate accepted, a 1024×800 window. */
  context?: BrowserContextOptions;
  /** Permissions granted to the portal's origin before the tab opens, e.g. the clipboard's. */
  permissions?: string[];
}

/** Starts a portal and Chromium on it; whatever started is closed again if a later step fails. */
export async function startPortalInChromium(options: PortalInChromiumOptions): Promise<PortalInChromium> {
  const portal = await startBrowserPortal(options.config);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await portal.close();
  };
  try {
    browser = await launchChromium();
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1024, height: 800 },
      ...options.context,
    });
    if (options.permissions) await context.grantPermissions(options.permissions, { origin: portal.portal });
    await routeApps(context, options.app, options.appHost);
    const page = await openTab(context, options.errors);
    const keys = await VirtualKeys.attach(context, page);
    const key = await keys.add('ctap2');
    return { portal, browser, context, page, keys, key, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Waits for the page with this heading and for its module scripts: the heading shows up while the scripts still
 * load, and a click before they run would do nothing.
 */
export async function onPage(page: Page, heading: string): Promise<void> {
  await page.getByRole('heading', { name: heading, exact: true }).waitFor();
  await page.waitForLoadState('load');
}

/** Saves a full-page screenshot under test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
