// Issue 7, item 1: an encoded slash or dot segment must not walk past a rule. Each shipped proxy configuration
// (nginx/example-site.conf, the laptop stack's deploy/nginx/gatehouse.conf, caddy/Caddyfile) runs in front of
// Gatehouse and an app that, like Python's http.server, percent-decodes the whole path (`%2F` included) and then
// resolves dot segments. Whatever the proxy does with the raw URI (nginx and Caddy pass it on as the client sent it),
// an anonymous client never reads the two-factor page, while the bypass page stays open.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { send, startCaddy, startComposeNginx, startNginx, type ProxyProcess, type Reply } from '../helpers/proxies.js';
import type { Backends } from '../helpers/proxy-configs.js';
import { TRAVERSAL_ATTACKS } from '../../helpers/traversal-attacks.js';

const BYPASS_PAGE = 'the bypass page';
const TWO_FACTOR_PAGE = 'the two-factor page';

/** The app: decodes the path as Python's http.server does (unquote, then normpath), one body per area. */
async function startDecodingUpstream(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const raw = (req.url ?? '/').split('?')[0]!;
    let path: string;
    try {
      path = posix.normalize(decodeURIComponent(raw));
    } catch {
      path = raw;
    }
    seen.push(path);
    const body = path.startsWith('/a/longer/rule/')
      ? TWO_FACTOR_PAGE
      : path.startsWith('/bypass/')
        ? BYPASS_PAGE
        : 'not found';
    res.writeHead(body === 'not found' ? 404 : 200, { 'Content-Type': 'text/plain', 'X-Echo': 'yes' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Authelia's authorizer test: resources on one domain. */
const ACCESS_CONTROL = {
  default_policy: 'deny',
  rules: [
    { domain: ['app.example.com', 'app.nginx.localhost'], resources: ['^/bypass/.*$'], policy: 'bypass' },
    { domain: ['app.example.com', 'app.nginx.localhost'], resources: ['^/a/longer/rule/.*$'], policy: 'two_factor' },
  ],
};

/** Request targets as the client writes them on the request line (never normalised by the client). */
const ATTACKS = TRAVERSAL_ATTACKS.map((attack) => attack.target);

interface Site {
  name: string;
  start(backends: Backends): Promise<ProxyProcess>;
  /** The app's origin as a browser names it. */
  app: string;
}

const SITES: Site[] = [
  { name: 'nginx/example-site.conf', start: startNginx, app: 'https://app.example.com' },
  {
    name: 'deploy/nginx/gatehouse.conf (the laptop stack)',
    start: startComposeNginx,
    app: 'http://app.nginx.localhost:8080',
  },
  { name: 'caddy/Caddyfile', start: startCaddy, app: 'https://app.example.com' },
];

for (const site of SITES) {
  describe(`${site.name}: encoded paths never pass a rule they should not`, () => {
    let gatehouse: TestGatehouse;
    let upstream: Awaited<ReturnType<typeof startDecodingUpstream>>;
    let proxy: ProxyProcess;

    const get = (target: string): Promise<Reply> =>
      send(proxy, `${site.app}/`, { headers: { Accept: 'text/html' }, requestTarget: target });

    beforeAll(async () => {
      gatehouse = await startGatehouse({
        sessions: 'redis',
        config: {
          access_control: ACCESS_CONTROL,
          session: {
            cookies: [
              { domain: 'example.com', authelia_url: 'https://auth.example.com' },
              { domain: 'nginx.localhost', authelia_url: 'http://auth.nginx.localhost:8080' },
            ],
          },
        },
      });
      upstream = await startDecodingUpstream();
      proxy = await site.start({ gatehousePort: Number(new URL(gatehouse.url).port), upstreamPort: upstream.port });
    });

    afterAll(async () => {
      await proxy?.stop();
      await upstream?.close();
      await gatehouse?.close();
    });

    it('control: the bypass page is open, the two-factor page sends an anonymous client to sign in', async () => {
      const open = await get('/bypass/abc');
      assert.equal(open.status, 200, `${open.status} ${open.body.slice(0, 200)}`);
      assert.equal(open.body, BYPASS_PAGE);
      const closed = await get('/a/longer/rule/abc');
      assert.equal(closed.status, 302, `${closed.status} ${closed.body.slice(0, 200)}`);
      assert.notEqual(closed.body, TWO_FACTOR_PAGE);
    });

    it('an anonymous client never reads the two-factor page through an encoded or dotted path', async () => {
      const leaks: string[] = [];
      for (const target of ATTACKS) {
        let reply: Reply | string;
        try {
          reply = await get(target);
        } catch (error) {
          reply = `no answer (${(error as Error).message})`;
        }
        if (
          typeof reply !== 'string' &&
          (reply.body === TWO_FACTOR_PAGE ||
            (reply.headers['x-echo'] === 'yes' && reply.body !== BYPASS_PAGE && reply.status === 200))
        ) {
          leaks.push(`${target} → ${reply.status} ${reply.body}`);
        }
      }
      assert.deepEqual(leaks, [], proxy.output().slice(-2000));
    });

    it('a bypass path whose encoded form stays inside /bypass/ is still open', async () => {
      const reply = await get('/bypass/x%2Fy/%2e/z');
      assert.equal(reply.status, 200, `${reply.status} ${reply.body.slice(0, 200)}`);
      assert.equal(reply.body, BYPASS_PAGE);
    });
  });
}

/** Asks the auth-request endpoint directly, as a proxy would, with the target exactly as written. */
function askDirectly(
  gatehouse: TestGatehouse,
  headers: Record<string, string>,
  path = '/api/authz/auth-request',
): Promise<number> {
  const { port } = new URL(gatehouse.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Accept: 'text/html', ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the decision endpoints themselves: resolved paths are judged, ambiguous ones refused', () => {
  let gatehouse: TestGatehouse;
  beforeAll(async () => {
    gatehouse = await startGatehouse({ sessions: 'memory', config: { access_control: ACCESS_CONTROL } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const RESOLVED = TRAVERSAL_ATTACKS.filter((attack) => attack.resource !== null).map((attack) => attack.target);
  const AMBIGUOUS = [
    ...TRAVERSAL_ATTACKS.filter((attack) => attack.resource === null).map((attack) => attack.target),
    '/a/%zz',
  ];

  it('auth-request: an encoded traversal into the two-factor area is sent to sign in (401), never passed', async () => {
    for (const path of RESOLVED) {
      assert.equal(
        await askDirectly(gatehouse, {
          'X-Original-URL': `https://app.example.com${path}`,
          'X-Original-Method': 'GET',
        }),
        401,
        path,
      );
    }
    assert.equal(
      await askDirectly(gatehouse, {
        'X-Original-URL': 'https://app.example.com/bypass/x%2Fy',
        'X-Original-Method': 'GET',
      }),
      200,
    );
  });

  it('auth-request and forward-auth refuse an ambiguous path with 400, verify with its 401', async () => {
    for (const path of AMBIGUOUS) {
      assert.equal(
        await askDirectly(gatehouse, {
          'X-Original-URL': `https://app.example.com${path}`,
          'X-Original-Method': 'GET',
        }),
        400,
        `auth-request ${path}`,
      );
      const forwarded = {
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'app.example.com',
        'X-Forwarded-Uri': path,
        'X-Forwarded-Method': 'GET',
      };
      assert.equal(await askDirectly(gatehouse, forwarded, '/api/authz/forward-auth'), 400, `forward-auth ${path}`);
      // The legacy endpoint answers a target it cannot use with 401 and no Location, as Authelia's does.
      assert.equal(
        await askDirectly(gatehouse, { 'X-Original-URL': `https://app.example.com${path}` }, '/api/verify'),
        401,
        `verify ${path}`,
      );
    }
  });
});
