// What every supported proxy must do in front of Gatehouse (issue 4, item 3), written once and run against each
// real proxy with the shipped configuration. Where the proxies differ by design (SPEC §4: nginx always turns the
// sign-in answer into a 302; forward-auth answers 303 to non-GET browsers and 401 to API clients) the proxy's
// entry says what to expect.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionAtLevel } from '../../helpers/flows.js';
import {
  echoOf,
  send,
  startEchoUpstream,
  type Echo,
  type EchoUpstream,
  type ProxyProcess,
  type Reply,
  type SendOptions,
} from './proxies.js';
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

interface HostHandling {
  /**
   * An absolute-form request line (`GET https://secure.example.com/ HTTP/1.1`) with a Host header naming another
   * host. Both proxies route on the request line's host; the shipped nginx snippets refuse the pair (400), Go's
   * server (Caddy, like Traefik) ignores the Host header then (RFC 9112 §3.2.2) and uses the request line's host
   * for everything, forward_auth's X-Forwarded-Host included.
   */
  againstRequestLine: 'refused' | 'request line wins';
  /**
   * A host name the configuration does not serve: nginx/example-site.conf's catch-all server closes the connection
   * (444) and refuses the TLS handshake of a client asking for such a name (ssl_reject_handshake); Caddy answers in
   * its own ways (an empty 200, a redirect to https, no certificate), never with an app.
   */
  unknown: 'no answer' | 'never an app';
}

/** How each proxy program, with its shipped configuration, treats the host a request names. */
const HOST_HANDLING: Record<ProxyProcess['name'], HostHandling> = {
  nginx: { againstRequestLine: 'refused', unknown: 'no answer' },
  caddy: { againstRequestLine: 'request line wins', unknown: 'never an app' },
};

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
const JOHN = {
  'remote-user': 'john',
  'remote-groups': 'admins,dev',
  'remote-name': 'John Doe',
  'remote-email': 'john.doe@example.com',
};

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

/** Requests for a host the configuration does not serve, each sent the way a client can. */
const UNKNOWN_HOSTS: { title: string; url: string; options?: SendOptions; silence: Silence }[] = [
  { title: 'by TLS name and Host', url: 'https://unknown.example.com/', silence: 'no TLS' },
  {
    title: 'by Host, over a TLS connection for a served name',
    url: `${APP}/`,
    options: { headers: { Host: 'unknown.example.com' } },
    silence: 'closed',
  },
  {
    title: 'in an absolute-form request line, Host naming a served app',
    url: `${APP}/`,
    options: { requestTarget: 'https://unknown.example.com/' },
    silence: 'closed',
  },
  { title: 'by Host, over plain HTTP', url: 'http://unknown.example.com/', silence: 'closed' },
];

/** The portal's decision endpoints as a client on the internet could spell them. */
const PORTAL_DECISION_PATHS = [
  '/api/authz/auth-request',
  '/api/authz/forward-auth',
  '/api/verify',
  '/api/verify?rd=https%3A%2F%2Fauth.example.com%2F',
  '/API/Verify',
  '/api/verify/',
  '/api/authz/',
];

/** The same endpoints written so that a proxy's path matcher and Gatehouse's router might disagree (sent as is). */
const PORTAL_DECISION_SPELLINGS = [
  '/api/%61uthz/auth-request',
  '/api/authz%2Fauth-request',
  '/api/authz/auth-request%3Fx',
  '/x/../api/verify',
  '/api/./verify',
  '/api/authz/./forward-auth',
  '//api/verify',
  '/api/verify;x=1',
  '/api/authz/auth-request/',
];

/** How a proxy can decline to answer: the connection closed without an HTTP answer, or the TLS handshake refused. */
type Silence = 'closed' | 'no TLS';

/** The answer, or how the proxy declined to give one. */
async function answerOrSilence(promise: Promise<Reply>): Promise<Reply | Silence> {
  try {
    return await promise;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET') return 'closed';
    if (code === 'EPROTO') return 'no TLS';
    throw error;
  }
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

    const get = (url: string, headers: Record<string, string> = {}) =>
      send(running, url, { headers: { ...BROWSER, ...headers } });

    function assertSentToSignIn(
      reply: Reply,
      target: string,
      method = 'GET',
      status = proxy.signInStatus.browserGet,
    ): void {
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

    beforeAll(async () => {
      gatehouse = await startGatehouse({
        sessions: 'redis',
        storage: 'postgres',
        config: { access_control: PROXY_ACCESS_CONTROL },
      });
      upstream = await startEchoUpstream();
      running = await proxy.start({ gatehousePort: Number(new URL(gatehouse.url).port), upstreamPort: upstream.port });
    });

    afterAll(async () => {
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
      assert.deepEqual(
        identityHeaders(echo).filter(([, value]) => value !== ''),
        [],
      );
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
      const forged = {
        'Remote-User': 'admin',
        'Remote-Groups': 'admins',
        'Remote-Email': 'admin@example.com',
        Remote_User: 'admin',
        remote_groups: 'admins',
      };
      const anonymous = echoOf(await get(`${APP}/public/x`, forged));
      assert.deepEqual(
        identityHeaders(anonymous).filter(([, value]) => value !== ''),
        [],
        'a public resource names nobody',
      );

      const cookie = await sessionAtLevel(gatehouse, 'harry', 1);
      const signedIn = echoOf(await get(`${APP}/x`, { ...forged, Cookie: cookie }));
      // Exactly Gatehouse's four, once each: nothing of the client's left beside or inside them.
      assert.deepEqual(identityHeaders(signedIn).sort(), [
        ['remote-email', 'harry@example.com'],
        ['remote-groups', 'dev'],
        ['remote-name', 'Harry Potter'],
        ['remote-user', 'harry'],
      ]);
    });

    it('decides on the real request and the real client, whatever forwarding headers the client sends', async () => {
      const target = `${SECURE}/settings`;
      const spoofedTarget = {
        'X-Original-URL': `${APP}/public/x`,
        'X-Original-Method': 'GET',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'app.example.com',
        'X-Forwarded-Uri': '/public/x',
        'X-Forwarded-Method': 'GET',
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
        method: 'POST',
        headers: { ...BROWSER, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'name=widget',
      });
      assertSentToSignIn(reply, target, 'POST', proxy.signInStatus.browserPost);
    });

    it('passes a signed-in POST to the app with its method and body intact', async () => {
      const cookie = await sessionAtLevel(gatehouse, 'john', 1);
      const body = JSON.stringify({ name: 'widget', size: 'x'.repeat(4096) });
      const echo = echoOf(
        await send(running, `${APP}/api/items`, {
          method: 'POST',
          headers: { Cookie: cookie, 'Content-Type': 'application/json' },
          body,
        }),
      );
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
      const basic = (password: string) => ({
        'Proxy-Authorization': `Basic ${Buffer.from(`john:${password}`).toString('base64')}`,
      });
      const good = await send(running, `${APP}/api/items`, { headers: basic(PASSWORD) });
      const bad = await send(running, `${APP}/api/items`, { headers: basic('wrong') });
      if (proxy.basicCredentials === 'checked') {
        const echo = echoOf(good);
        assert.equal(echo.headers['remote-user'], 'john');
        assert.equal(echo.headers['proxy-authorization'], undefined, 'the password stays with the proxy and Gatehouse');
        assert.equal(bad.status, 401);
        assert.equal(bad.headers['www-authenticate'], 'Basic realm="Authorization Required"');
      } else {
        for (const reply of [good, bad])
          assertSentToSignIn(reply, `${APP}/api/items`, 'GET', proxy.signInStatus.apiClient);
      }
    });

    // Security review: nginx routes on the request line's host when the client writes one, whatever the Host header
    // says; the snippets once built X-Original-URL from an unchecked Host header, so Gatehouse judged one host while
    // nginx served another.
    it('judges the host it serves when an absolute-form request line and the Host header disagree', async () => {
      const control = echoOf(
        await send(running, `${APP}/public/x`, { headers: BROWSER, requestTarget: `${APP}/public/x` }),
      );
      assert.equal(control.url, '/public/x', 'control: an absolute-form request whose Host agrees is served');

      const oneFactor = await sessionAtLevel(gatehouse, 'harry', 1);
      const cases: { who: string; target: string; cookie: Record<string, string> }[] = [
        { who: 'anonymous', target: `${SECURE}/public/x`, cookie: {} },
        { who: 'a one-factor session', target: `${SECURE}/vault`, cookie: { Cookie: oneFactor } },
      ];
      for (const { who, target, cookie } of cases) {
        // Host names app.example.com, where /public is open to anyone and one factor is enough.
        const reply = await send(running, target, {
          headers: { ...BROWSER, ...cookie, Host: 'app.example.com' },
          requestTarget: target,
        });
        assert.notEqual(reply.headers['x-echo'], 'yes', `${who}: the two-factor app answered`);
        if (HOST_HANDLING[running.name].againstRequestLine === 'refused')
          assert.equal(reply.status, 400, `${who}: ${reply.status}`);
        else assertSentToSignIn(reply, target);
      }
    });

    it('serves no host it was not configured for', async () => {
      for (const { title, url, options, silence } of UNKNOWN_HOSTS) {
        const reply = await answerOrSilence(
          send(running, url, { ...options, headers: { ...BROWSER, ...options?.headers } }),
        );
        const answered = typeof reply === 'string' ? reply : `${reply.status} ${reply.body.slice(0, 100)}`;
        if (HOST_HANDLING[running.name].unknown === 'no answer') assert.equal(reply, silence, `${title}: ${answered}`);
        else assert.ok(typeof reply === 'string' || reply.headers['x-echo'] !== 'yes', `${title}: an app answered`);
      }
    });

    // Security review: the decision endpoints are for the proxy's own questions, which go to Gatehouse directly.
    it("does not answer the decision endpoints on the portal's public site", async () => {
      const health = await get(`${PORTAL}/api/health`);
      assert.equal(health.status, 200, 'control: the portal is served');
      const basic = `Basic ${Buffer.from(`john:${PASSWORD}`).toString('base64')}`;
      const asked = {
        'X-Original-URL': `${SECURE}/vault`,
        'X-Original-Method': 'GET',
        Authorization: basic,
        'Proxy-Authorization': basic,
      };
      for (const path of PORTAL_DECISION_PATHS) {
        const reply = await get(`${PORTAL}${path}`, asked);
        assert.equal(reply.status, 404, `${path}: ${reply.status}`);
        assert.equal(reply.headers['remote-user'], undefined, path);
      }
      // Spellings the proxy may route differently from Gatehouse: none of them is answered as a decision.
      for (const target of PORTAL_DECISION_SPELLINGS) {
        const reply = await send(running, `${PORTAL}/`, { headers: { ...BROWSER, ...asked }, requestTarget: target });
        assert.equal(reply.status, 404, `${target}: ${reply.status}`);
        assert.equal(reply.headers['remote-user'], undefined, target);
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
