// A Gatehouse as a user meets it in the browser tests: https on auth.example.com:<port> through the TLS proxy, one
// cookie domain, real Redis and PostgreSQL, and the identity emails read back from the filesystem notifier's file.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { extractLink, readMessages } from '../../helpers/mail.js';
import { startTlsProxy, type TlsProxy } from './tls-proxy.js';

export interface BrowserPortal {
  /** e.g. https://auth.example.com:43123 */
  portal: string;
  gatehouse: TestGatehouse;
  /** Messages in the notifier's file so far. */
  messageCount(): number;
  /** Waits for a message after the first `after` ones that carries an identity link, and returns the link. */
  identityLink(after: number): Promise<string>;
  close(): Promise<void>;
}

export async function startBrowserPortal(config: Record<string, unknown> = {}): Promise<BrowserPortal> {
  const proxy: TlsProxy = await startTlsProxy();
  const portal = `https://auth.example.com:${proxy.port}`;
  let gatehouse: TestGatehouse;
  try {
    gatehouse = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      config: {
        ...config,
        session: {
          cookies: [
            { domain: 'example.com', authelia_url: portal, default_redirection_url: 'https://www.example.com/' },
          ],
        },
      },
    });
  } catch (error) {
    await proxy.close();
    throw error;
  }
  proxy.setUpstream(gatehouse.url);
  const mailbox = join(gatehouse.dir, 'notification.txt');
  return {
    portal,
    gatehouse,
    messageCount: () => readMessages(mailbox).length,
    async identityLink(after) {
      for (let waited = 0; waited < 5_000; waited += 50) {
        const message = readMessages(mailbox)
          .slice(after)
          .findLast((m) => /\/(webauthn\/register|identity\/confirm)\?token=/.test(m.body));
        if (message)
          return extractLink(
            message.body,
            message.body.includes('/identity/confirm?token=') ? '/identity/confirm' : '/webauthn/register',
          );
        await sleep(50);
      }
      throw new Error(`no identity email after message ${after}`);
    },
    async close() {
      await proxy.close();
      await gatehouse.close();
    },
  };
}
