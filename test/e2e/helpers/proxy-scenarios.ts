// What every supported proxy must do in front of Gatehouse (issue 4, item 3), written once and run against each
// real proxy with the shipped configuration. Where the proxies differ by design (SPEC §4: nginx always turns the
// sign-in answer into a 302; forward-auth answers 303 to non-GET browsers and 401 to API clients) the proxy's
// entry says what to expect.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionAtLevel } from '../../helpers/flows.js';
import { echoOf, send, startEchoUpstream, type Echo, type EchoUpstream, type ProxyProcess, type Reply } from './proxies.js';
import type { Backends } from './proxy-configs.js';

export interface ProxyUnderTest {
  name: string;
  start(backends: Backends): Promise<ProxyProcess>;
  /** The status of the answer that sends an anonymous client to sign in. */
  signInStatus: { browserGet: number; browserPost: number; apiClient: number };
  /** The status when Gatehouse cannot be reached at all. */
  gatehouseDownStatus: number;
  /**
   * What becomes of HTTP Basic credentials in Proxy-Authorization: passed to Gatehouse and checked, or dropped by
   * the proxy itself (Caddy, like Go's reverse proxies, treats the header as hop-by-hop).
   */
  basicCredentials: 'checked' | 'dropped';
}

const PORTAL = 'https://auth.example.com';
const APP = 'https://app.example.com';
const SECURE = 'https://secure.example.com';

/** The two apps of the shipped configurations, with a rule for each case the tests need. */
export const PROXY_ACCESS_CONTROL = {
  default_policy: 'deny',
  networks: [{ name: 'internal', networks: ['10.0.0.0/8'] }],
  rules: [
    { domain: 'app.example.com', resources: ['^/public([/?].*)?$'], policy: 'bypass' },
    { domain: 'app.example.com', resources: ['^/forbidden([/?].*)?$'], policy: 'deny' },
    { domain: 'app.example.com', resources: ['^/internal([/?].*)?$'], networks: ['internal'], policy: 'bypass' },
    { domain: 'app.example.com', policy: 'one_factor' },
    { domain: 'secure.example.com', policy: 'two_factor' },
  ],
};

const BROWSER = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const JOHN = { 'remote-user': 'john', 'remote-groups': 'admins,dev', 'remote-name': 'John Doe', 'remote-email': 'john.doe@example.com' };

function portalRedirect(target: string, method: string): string {
  return `${PORTAL}/?rd=${encodeURIComponent(target)}&rm=${method}`;
}

/** Every identity header the app received (any spelling, every occurrence), as [lower-case name, value]. */
function identityHeaders(echo: Echo): [string, string][] {
  const found: [string, string][] = [];
  for (let i = 0; i < echo.rawHeaders.length; i += 2) {
    const name = echo.rawHeaders[i]!.toLowerCase();
    if (/^remote[-_]/.test(name)) found.push([name, echo.rawHeaders[i + 1]!]);
  }
  return found;
}

function setCookies(reply: Reply): string[] {
  return reply.headers['set-cookie'] ?? [];
}

export function describeProxy(proxy: ProxyUnderTest): void {
  describe(`${proxy.name} with the shipped configuration in front of Gatehouse`, () => {
    let gatehouse: TestGatehouse;
    let upstream: EchoUpstream;
    let running: ProxyProcess;
    let gatehouseStopped = false;

    const get = (url: string, headers: Record<string, string> = {}) => send(running, url, { headers: { ...BROWSER, ...headers } });

    function assertSentToSignIn(reply: Reply, target: string, method = 'GET', status = proxy.signInStatus.browserGet): void {
      assert.equal(reply.status, status, `${reply.status} ${reply.body.slice(0, 200)}`);
      assert.equal(reply.headers.location, portalRedirect(target, method));
    }

    /** The portal's own sign-in, through the proxy: the page, then its JSON call. Returns the session cookie. */
    async function signInThroughPortal(target: string): Promise<string> {
      const page = await get(portalRedirect(target, 'GET'));
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      const reply = await send(running, `${PORTAL}/api/firstfactor`, {
        method: 'POST',
        headers: { Origin: PORTAL, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username: 'john', password: PASSWORD, targetURL: target, requestMethod: 'GET' }),
      });
      assert.equal(reply.status, 200, reply.body);
      assert.deepEqual(JSON.parse(reply.body), { status: 'OK', data: { redirect: target } });
      const cookie = setCookies(reply).find((c) => c.startsWith('gatehouse_session='));
      assert.ok(cookie, 'the portal sets the session cookie');
      assert.match(cookie, /; Domain=example\.com/i);
      assert.match(cookie, /; Secure/i);
      return cookie.split(';')[0]!;
    }

    before(async () => {
      gatehouse = await startGatehouse({ sessions: 'redis', storage: 'postgres', config: { access_control: PROXY_ACCESS_CONTROL } });
      upstream = await startEchoUpstream();
      running = await proxy.start({ gatehousePort: Number(new URL(gatehouse.url).port), upstreamPort: upstream.port });
    });

    after(async () => {
      await running?.stop();
      await upstream?.close();
      if (!gatehouseStopped) await gatehouse?.close();
    });

    it('sends an anonymous browser to the portal, with the URL it asked for as rd', async () => {
      const target = `${SECURE}/reports/2024?sort=desc&q=a%20b`;
      assertSentToSignIn(await get(target), target);
    });

    it('lets a bypass resource through, naming nobody', async () => {
      const echo = echoOf(await get(`${APP}/public/readme.txt?x=1`));
      assert.equal(echo.url, '/public/readme.txt?x=1');
      assert.deepEqual(identityHeaders(echo).filter(([, value]) => value !== ''), []);
    });

    it('refuses a denied path with 403 and the app never sees it', async () => {
      const reply = await get(`${APP}/forbidden/area`);
      assert.equal(reply.status, 403);
      assert.notEqual(reply.headers['x-echo'], 'yes');
    });

    it('after a password sign-in through the portal, the app sees Remote-User and Remote-Groups', async () => {
      const target = `${APP}/dashboard`;
      assertSentToSignIn(await get(target), target);
      const cookie = await signInThroughPortal(target);
      const echo = echoOf(await get(target, { Cookie: cookie }));
      assert.equal(echo.url, '/dashboard');
      for (const [name, value] of Object.entries(JOHN)) assert.equal(echo.headers[name], value, name);
      // A one-factor session is not enough for the two-factor app: back to the portal.
      assertSentToSignIn(await get(`${SECURE}/`, { Cookie: cookie }), `${SECURE}/`);
    });

    it('after the second factor, the two-factor app sees the user', async () => {
      const cookie = await sessionAtLevel(gatehouse, 'john', 2);
      const echo = echoOf(await get(`${SECURE}/vault`, { Cookie: cookie }));
      assert.equal(echo.headers['remote-user'], 'john');
      assert.equal(echo.headers['remote-groups'], 'admins,dev');
    });

    it('never passes an identity header the client made up', async () => {
      const forged = { 'Remote-User': 'admin', 'Remote-Groups': 'admins', 'Remote-Email': 'admin@example.com', Remote_User: 'admin', remote_groups: 'admins' };
      const anonymous = echoOf(await get(`${APP}/public/x`, forged));
      assert.deepEqual(identityHeaders(anonymous).filter(([, value]) => value !== ''), [], 'a public resource names nobody');

      const cookie = await sessionAtLevel(gatehouse, 'harry', 1);
      const signedIn = echoOf(await get(`${APP}/x`, { ...forged, Cookie: cookie }));
      // Exactly Gatehouse's four, once each: nothing of the client's left beside or inside them.
      assert.deepEqual(identityHeaders(signedIn).sort(), [
        ['remote-email', 'harry@example.com'], ['remote-groups', 'dev'], ['remote-name', 'Harry Potter'], ['remote-user', 'harry'],
      ]);
    });

    it('decides on the real request and the real client, whatever forwarding headers the client sends', async () => {
      const target = `${SECURE}/settings`;
      const spoofedTarget = {
        'X-Original-URL': `${APP}/public/x`, 'X-Original-Method': 'GET',
        'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example.com', 'X-Forwarded-Uri': '/public/x', 'X-Forwarded-Method': 'GET',
      };
      assertSentToSignIn(await get(target, spoofedTarget), target);
      // `internal` (10.0.0.0/8) may skip sign-in on /internal: a client claiming such an address may not.
      const internal = `${APP}/internal/status`;
      const claimsInternal = { 'X-Forwarded-For': '10.1.2.3', 'X-Real-IP': '10.1.2.3', Forwarded: 'for=10.1.2.3' };
      assertSentToSignIn(await get(internal, claimsInternal), internal);
      // The app is told the real client too (SPEC §4: the shipped configurations overwrite X-Forwarded-For).
      const echo = echoOf(await get(`${APP}/public/x`, claimsInternal));
      assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
    });

    it('handles an anonymous POST as a proxy should: sent to sign in, the method kept in rm', async () => {
      const target = `${SECURE}/api/items`;
      const reply = await send(running, target, {
        method: 'POST', headers: { ...BROWSER, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=widget',
      });
      assertSentToSignIn(reply, target, 'POST', proxy.signInStatus.browserPost);
    });

    it('passes a signed-in POST to the app with its method and body intact', async () => {
      const cookie = await sessionAtLevel(gatehouse, 'john', 1);
      const body = JSON.stringify({ name: 'widget', size: 'x'.repeat(4096) });
      const echo = echoOf(await send(running, `${APP}/api/items`, {
        method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body,
      }));
      assert.equal(echo.method, 'POST');
      assert.equal(echo.body, body);
      assert.equal(echo.headers['remote-user'], 'john');
    });

    it('answers an API client that needs to sign in as the proxy flavour specifies', async () => {
      const target = `${APP}/api/items`;
      const reply = await send(running, target, { headers: { Accept: 'application/json' } });
      assertSentToSignIn(reply, target, 'GET', proxy.signInStatus.apiClient);
    });

    it('checks Basic credentials sent in Proxy-Authorization, or never passes them on, and never to the app', async () => {
      const basic = (password: string) => ({ 'Proxy-Authorization': `Basic ${Buffer.from(`john:${password}`).toString('base64')}` });
      const good = await send(running, `${APP}/api/items`, { headers: basic(PASSWORD) });
      const bad = await send(running, `${APP}/api/items`, { headers: basic('wrong') });
      if (proxy.basicCredentials === 'checked') {
        const echo = echoOf(good);
        assert.equal(echo.headers['remote-user'], 'john');
        assert.equal(echo.headers['proxy-authorization'], undefined, 'the password stays with the proxy and Gatehouse');
        assert.equal(bad.status, 401);
        assert.equal(bad.headers['www-authenticate'], 'Basic realm="Authorization Required"');
      } else {
        for (const reply of [good, bad]) assertSentToSignIn(reply, `${APP}/api/items`, 'GET', proxy.signInStatus.apiClient);
      }
    });

    // Last: stops Gatehouse.
    it('lets nothing through once Gatehouse cannot be reached', async () => {
      const cookie = await sessionAtLevel(gatehouse, 'john', 2);
      gatehouseStopped = true;
      await gatehouse.close();
      for (const url of [`${APP}/public/x`, `${APP}/x`, `${SECURE}/`]) {
        const reply = await get(url, { Cookie: cookie });
        assert.equal(reply.status, proxy.gatehouseDownStatus, url);
        assert.notEqual(reply.headers['x-echo'], 'yes', url);
      }
    });
  });
}
