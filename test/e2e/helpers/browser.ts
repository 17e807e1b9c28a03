// Headless Chromium (Debian's package, never a downloaded browser) driven by playwright-core, with CDP virtual
// authenticators standing in for security keys.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

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

/** Saves a full-page screenshot under test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
