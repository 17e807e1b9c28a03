// Issue 10 §2: the real nginx (nginx/example-site.conf and its snippets, unchanged) and the real Caddy (caddy/Caddyfile)
// keep their connections to Gatehouse. A proxy reuses a connection only after reading the whole answer, and neither
// reads the body of an answer it does not show (nginx's auth_request reads none at all): an answer with one costs a
// new TCP connection per request, and a socket in TIME_WAIT after it. So Gatehouse's answers that the proxy never
// shows have no body (docs/decisions.md, "Keep-alive answers"). Here, several hundred requests of every kind (passes,
// public paths, sign-in redirects, refusals, wrong Basic credentials) go through each proxy with a few at a time,
// and Gatehouse counts the TCP connections the proxy opened to it: a handful, not one per request.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { countConnections, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { basic, sessionAtLevel } from '../../helpers/flows.js';
import {
  echoOf,
  send,
  startCaddy,
  startEchoUpstream,
  startNginx,
  type EchoUpstream,
  type ProxyProcess,
  type Reply,
} from '../helpers/proxies.js';
import { PROXY_ACCESS_CONTROL } from '../helpers/proxy-scenarios.js';
import type { Backends } from '../helpers/proxy-configs.js';

const REQUESTS = 500;
/** Requests in flight at once: the proxy needs at most this many connections to Gatehouse. */
const CONCURRENCY = 8;
/** Wrong Basic credentials, sent one after another (each is answered after the failure floor, per user in turn). */
const WRONG_BASIC = 10;

const APP = 'https://app.example.com';
const SECURE = 'https://secure.example.com';
const BROWSER = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

interface ProxyEntry {
  name: ProxyProcess['name'];
  start(backends: Backends): Promise<ProxyProcess>;
  /** `server.authz_thread` on: the proxy talks to the front worker, which forwards what it cannot answer. */
  thread?: boolean;
}

const PROXIES: ProxyEntry[] = [
  { name: 'nginx', start: startNginx },
  { name: 'caddy', start: startCaddy },
  { name: 'nginx', start: startNginx, thread: true },
];

/** One kind of request and what must come back: the proxy answering right is part of the test. */
interface Case {
  title: string;
  url: string;
  headers: (cookie: string) => Record<string, string>;
  check(reply: Reply): boolean;
}

const CASES: Case[] = [
  {
    title: 'signed-in pass',
    url: `${APP}/dashboard`,
    headers: (cookie) => ({ ...BROWSER, Cookie: cookie }),
    check: (reply) => echoOf(reply).headers['remote-user'] === 'john',
  },
  {
    title: 'public path, nobody named',
    url: `${APP}/public/readme.txt`,
    headers: () => BROWSER,
    check: (reply) => echoOf(reply).headers['remote-user'] === undefined,
  },
  {
    title: 'anonymous, sent to sign in',
    url: `${APP}/dashboard`,
    headers: () => BROWSER,
    check: (reply) =>
      reply.status === 302 && String(reply.headers.location).startsWith('https://auth.example.com/?rd='),
  },
  {
    title: 'denied path',
    url: `${APP}/forbidden/area`,
    headers: (cookie) => ({ ...BROWSER, Cookie: cookie }),
    check: (reply) => reply.status === 403 && reply.headers['x-echo'] === undefined,
  },
  {
    title: 'one factor on the two-factor app, sent to sign in',
    url: `${SECURE}/vault`,
    headers: (cookie) => ({ ...BROWSER, Cookie: cookie }),
    check: (reply) => reply.status === 302 && reply.headers['x-echo'] === undefined,
  },
];

for (const proxy of PROXIES) {
  const label = proxy.thread ? `${proxy.name} (server.authz_thread on)` : proxy.name;
  describe(`${label} keeps its connections to Gatehouse`, () => {
    let gatehouse: TestGatehouse;
    let upstream: EchoUpstream;
    let running: ProxyProcess;
    let cookie: string;
    let opened: () => Promise<number>;

    beforeAll(async () => {
      gatehouse = await startGatehouse({
        sessions: 'redis',
        config: { access_control: PROXY_ACCESS_CONTROL, server: { authz_thread: proxy.thread === true } },
      });
      assert.equal(gatehouse.gatehouse.front !== undefined, proxy.thread === true);
      opened = await countConnections(gatehouse.gatehouse);
      upstream = await startEchoUpstream();
      running = await proxy.start({ gatehousePort: Number(new URL(gatehouse.url).port), upstreamPort: upstream.port });
      cookie = await sessionAtLevel(gatehouse, 'john', 1);
    });

    afterAll(async () => {
      await running?.stop();
      await upstream?.close();
      await gatehouse?.close();
    });

    it(`answers ${REQUESTS + WRONG_BASIC} requests of every kind over a handful of connections`, async () => {
      const before = await opened();
      const wrong: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < REQUESTS) {
          const kind = CASES[next++ % CASES.length]!;
          const reply = await send(running, kind.url, { headers: kind.headers(cookie) });
          let right = false;
          try {
            right = kind.check(reply);
          } catch {
            // echoOf: not the app's answer
          }
          if (!right) wrong.push(`${kind.title}: ${reply.status} ${reply.body.slice(0, 120)}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      // A refused Basic attempt: 401 with the challenge and no Location (Caddy passes Authorization on, as nginx).
      for (let i = 0; i < WRONG_BASIC; i++) {
        const reply = await send(running, `${APP}/api/items`, { headers: { Authorization: basic('nobody', 'wrong') } });
        if (reply.status !== 401 || reply.headers['www-authenticate'] !== 'Basic realm="Authorization Required"')
          wrong.push(`wrong Basic credentials: ${reply.status} ${reply.body.slice(0, 120)}`);
      }
      const connections = (await opened()) - before;
      console.log(
        `${label}: ${REQUESTS + WRONG_BASIC} requests (${CONCURRENCY} at a time), ${connections} new connections to Gatehouse`,
      );
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong answers`);
      // At most one connection per request in flight (and as many again for the pool's turnover), never one each.
      assert.ok(connections <= 2 * CONCURRENCY, `${connections} connections for ${REQUESTS + WRONG_BASIC} requests`);
    });
  });
}
