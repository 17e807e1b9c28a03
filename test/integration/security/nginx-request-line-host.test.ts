// Security review: the shipped nginx snippets build X-Original-URL from `$http_host` (the Host header as the client
// wrote it), while nginx picks the server block, and so the app, from the host in the request line when the client
// sends an absolute-form request target (`GET https://secure.example.com/ HTTP/1.1`, RFC 9112 §3.2.2). A client that
// sends both can make Gatehouse judge one host while nginx serves another. Run against the real nginx with the
// shipped files (as test/e2e/proxies/nginx.test.ts does), Gatehouse with Redis + PostgreSQL behind it.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { sessionAtLevel } from '../../helpers/flows.js';
import { startNginx, startEchoUpstream, type EchoUpstream, type ProxyProcess } from '../../e2e/helpers/proxies.js';

const ACCESS_CONTROL = {
  default_policy: 'deny',
  rules: [
    { domain: 'public.example.com', policy: 'bypass' },
    { domain: 'app.example.com', resources: ['^/public([/?].*)?$'], policy: 'bypass' },
    { domain: 'app.example.com', resources: ['^/forbidden([/?].*)?$'], policy: 'deny' },
    { domain: 'app.example.com', policy: 'one_factor' },
    { domain: 'secure.example.com', policy: 'two_factor' },
  ],
};

interface RawReply {
  status: number;
  head: string;
  body: string;
}

/** One request written byte for byte over TLS to nginx (SNI = `serverName`), as a hostile client can. */
function rawRequest(proxy: ProxyProcess, serverName: string, text: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxy.httpsPort, servername: serverName, ca: proxy.ca }, () =>
      socket.write(text),
    );
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer from nginx')));
    socket.on('end', () => {
      const split = received.indexOf('\r\n\r\n');
      const head = split < 0 ? received : received.slice(0, split);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: split < 0 ? '' : received.slice(split + 4),
      });
    });
  });
}

function request(line: string, headers: Record<string, string>): string {
  return `${line}\r\n${Object.entries({ ...headers, Connection: 'close' })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

/** Whether the echo app answered; a reply nginx never sent fails the test instead of passing it. */
function reachedApp(reply: RawReply): boolean {
  assert.ok(reply.status > 0, `no HTTP answer from nginx: ${JSON.stringify(reply.head)}`);
  return /\r\nX-Echo: yes/i.test(reply.head);
}

describe('security: nginx (shipped snippets) judges the host the client wrote, serves the host in the request line', () => {
  let gatehouse: TestGatehouse;
  let upstream: EchoUpstream;
  let nginx: ProxyProcess;

  beforeAll(async () => {
    gatehouse = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      config: { access_control: ACCESS_CONTROL },
    });
    upstream = await startEchoUpstream();
    nginx = await startNginx({ gatehousePort: Number(new URL(gatehouse.url).port), upstreamPort: upstream.port });
  });

  afterAll(async () => {
    await nginx?.stop();
    await upstream?.close();
    await gatehouse?.close();
  });

  it('control: an anonymous request for the two-factor app is sent to sign in', async () => {
    const reply = await rawRequest(
      nginx,
      'secure.example.com',
      request('GET /vault HTTP/1.1', { Host: 'secure.example.com' }),
    );
    assert.equal(reply.status, 302, reply.head);
    assert.equal(reachedApp(reply), false);
  });

  it('an anonymous absolute-form request for secure.example.com with Host: public.example.com never reaches the app', async () => {
    const reply = await rawRequest(
      nginx,
      'secure.example.com',
      request('GET https://secure.example.com/vault HTTP/1.1', { Host: 'public.example.com' }),
    );
    assert.equal(
      reachedApp(reply),
      false,
      `the two-factor app answered an anonymous client:\n${reply.head}\n${reply.body.slice(0, 300)}`,
    );
  });

  it('a one-factor session cannot reach the two-factor app by naming a one-factor host in Host', async () => {
    const cookie = await sessionAtLevel(gatehouse, 'harry', 1);
    const reply = await rawRequest(
      nginx,
      'secure.example.com',
      request('GET https://secure.example.com/vault HTTP/1.1', { Host: 'app.example.com', Cookie: cookie }),
    );
    assert.equal(
      reachedApp(reply),
      false,
      `the two-factor app answered a one-factor session:\n${reply.head}\n${reply.body.slice(0, 300)}`,
    );
  });

  it("a '#' in the request target is refused rather than judged as the path before it", async () => {
    // nginx routes on `/public` but hands the app the raw `/public#/../forbidden`; Gatehouse judges `/public`
    // (bypass). A backend that reads '#' as a path character and then cleans the path serves `/forbidden`.
    const cookie = await sessionAtLevel(gatehouse, 'harry', 1);
    const reply = await rawRequest(
      nginx,
      'app.example.com',
      request('GET /public#/../forbidden HTTP/1.1', { Host: 'app.example.com', Cookie: cookie }),
    );
    assert.equal(
      reachedApp(reply),
      false,
      `the app received a '#' path that Gatehouse judged as /public:\n${reply.body.slice(0, 300)}`,
    );
  });
});
