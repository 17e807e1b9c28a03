// Issue 10 §2: answers a proxy can keep its connection after. A proxy reuses its connection to Gatehouse only once
// it has read the whole answer, and it never reads a body it does not show: nginx's auth_request reads no body at
// all (and closes the connection rather than read one), Traefik and Caddy read the body of a refusal (they relay it)
// but not of a pass. So every answer of auth-request, and the pass of every flavour, is `Content-Length: 0`; the
// refusals of forward-auth and verify keep Authelia's bodies, which their clients see (docs/decisions.md,
// "Keep-alive answers"). Real Redis; the answers are read as bytes, without a client that would hide the framing.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { countConnections, PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { basic, signIn } from '../../helpers/flows.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

type Flavour = 'auth-request' | 'forward-auth' | 'verify';

const PATHS: Record<Flavour, string> = {
  'auth-request': '/api/authz/auth-request',
  'forward-auth': '/api/authz/forward-auth',
  verify: '/api/verify',
};

/** The headers each proxy sends to describe `target` (verify: as Traefik asks it, X-Forwarded-*). */
function describeTarget(flavour: Flavour, target: string, method: string): Record<string, string> {
  if (flavour === 'auth-request') return { 'X-Original-URL': target, 'X-Original-Method': method };
  const url = new URL(target);
  return {
    'X-Forwarded-Method': method,
    'X-Forwarded-Proto': url.protocol.slice(0, -1),
    'X-Forwarded-Host': url.host,
    'X-Forwarded-URI': `${url.pathname}${url.search}`,
  };
}

describe('keep-alive answers', () => {
  let t: TestGatehouse;
  let john: string;
  /** One socket for every request of this file: a connection the server closed would show as a second one. */
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let connections: () => Promise<number>;

  function ask(
    flavour: Flavour,
    target: string,
    options: { method?: string; callMethod?: string; headers?: Record<string, string>; query?: string } = {},
  ): Promise<Answer> {
    const url = new URL(t.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${PATHS[flavour]}${options.query ?? ''}`,
          method: options.callMethod ?? 'GET',
          agent,
          headers: {
            Accept: 'text/html',
            ...describeTarget(flavour, target, options.method ?? 'GET'),
            ...options.headers,
          },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** No body, framed by `Content-Length: 0` (neither chunked nor read until close), and nothing to type. */
  function assertEmpty(answer: Answer, what: string): void {
    assert.equal(answer.body, '', what);
    assert.equal(answer.headers['content-length'], '0', what);
    assert.equal(answer.headers['transfer-encoding'], undefined, what);
    assert.equal(answer.headers['content-type'], undefined, what);
    assert.equal(answer.headers['cache-control'], 'no-store', what);
    assert.notEqual(answer.headers.connection, 'close', what);
  }

  /** Authelia's body, whole and framed by its length. */
  function assertBody(answer: Answer, body: string, what: string): void {
    assert.equal(answer.body, body, what);
    assert.equal(answer.headers['content-length'], String(Buffer.byteLength(body)), what);
    assert.notEqual(answer.headers.connection, 'close', what);
  }

  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'redis' });
    john = await signIn(t, 'john');
    // Counted from here: the sign-in above came over connections of its own.
    connections = await countConnections(t.gatehouse);
  });

  afterAll(async () => {
    agent.destroy();
    await t.close();
  });

  describe('auth-request (nginx reads no body): no answer has one', () => {
    it('a pass, with or without a user named', async () => {
      assertEmpty(await ask('auth-request', 'https://public.example.com/'), 'anonymous bypass');
      const named = await ask('auth-request', 'https://app.example.com/', { headers: { Cookie: john } });
      assert.equal(named.status, 200);
      assert.equal(named.headers['remote-user'], 'john');
      assertEmpty(named, 'signed-in pass');
    });

    it('sign-in needed: 401 with the Location and no body', async () => {
      const answer = await ask('auth-request', 'https://app.example.com/page');
      assert.equal(answer.status, 401);
      assert.equal(answer.headers.location, 'https://auth.example.com/?rd=https%3A%2F%2Fapp.example.com%2Fpage&rm=GET');
      assertEmpty(answer, '401 sign-in');
    });

    it('refusals: 403, a Basic challenge, 400, 405', async () => {
      const forbidden = await ask('auth-request', 'https://app.example.com/forbidden/x', { headers: { Cookie: john } });
      assert.equal(forbidden.status, 403);
      assertEmpty(forbidden, '403');
      const challenge = await ask('auth-request', 'https://app.example.com/', {
        headers: { Authorization: basic('harry', 'wrong') },
      });
      assert.equal(challenge.status, 401);
      assert.equal(challenge.headers['www-authenticate'], 'Basic realm="Authorization Required"');
      assertEmpty(challenge, '401 challenge');
      const bad = await ask('auth-request', 'https://app.example.com/', { method: 'get' });
      assert.equal(bad.status, 400);
      assertEmpty(bad, '400');
      const method = await ask('auth-request', 'https://app.example.com/', { callMethod: 'POST' });
      assert.equal(method.status, 405);
      assert.equal(method.headers.allow, 'GET, HEAD');
      assertEmpty(method, '405');
    });
  });

  for (const flavour of ['forward-auth', 'verify'] as const) {
    describe(`${flavour} (the proxy relays refusals, never the pass)`, () => {
      it('a pass has no body, with or without a user named', async () => {
        assertEmpty(await ask(flavour, 'https://public.example.com/'), 'anonymous bypass');
        const named = await ask(flavour, 'https://app.example.com/', { headers: { Cookie: john } });
        assert.equal(named.status, 200);
        assert.equal(named.headers['remote-user'], 'john');
        assertEmpty(named, 'signed-in pass');
      });

      it("refusals keep Authelia's bodies, which the client sees", async () => {
        const query = flavour === 'verify' ? '?rd=https%3A%2F%2Fauth.example.com%2F' : '';
        const location = 'https://auth.example.com/?rd=https%3A%2F%2Fapp.example.com%2Fpage&rm=GET';
        const redirect = await ask(flavour, 'https://app.example.com/page', { query });
        assert.equal(redirect.status, 302);
        assert.equal(redirect.headers.location, location);
        assertBody(redirect, `<a href="${location.replace(/&/g, '&amp;')}">302 Found</a>`, '302');
        const xhr = await ask(flavour, 'https://app.example.com/page', {
          query,
          headers: { 'X-Requested-With': 'XMLHttpRequest' },
        });
        assert.equal(xhr.status, 401);
        assertBody(xhr, `<a href="${location.replace(/&/g, '&amp;')}">401 Unauthorized</a>`, '401 with Location');
        const forbidden = await ask(flavour, 'https://app.example.com/forbidden/x', { headers: { Cookie: john } });
        assert.equal(forbidden.status, 403);
        assertBody(forbidden, '403 Forbidden', '403');
        const challenge = await ask(flavour, 'https://app.example.com/', {
          query: flavour === 'verify' ? '?auth=basic' : '',
          headers: { Authorization: basic('harry', 'wrong') },
        });
        assert.equal(challenge.status, 401);
        assertBody(challenge, '401 Unauthorized', 'Basic challenge');
        const bad = await ask(flavour, 'https://app.example.com/', { method: 'get' });
        assert.equal(bad.status, flavour === 'verify' ? 401 : 400);
        assertBody(bad, flavour === 'verify' ? '401 Unauthorized' : '400 Bad Request', 'unusable request');
      });

      it('a HEAD call is answered with the same headers and no body', async () => {
        const pass = await ask(flavour, 'https://app.example.com/', { callMethod: 'HEAD', headers: { Cookie: john } });
        assert.equal(pass.status, 200);
        assertEmpty(pass, 'HEAD pass');
        const forbidden = await ask(flavour, 'https://app.example.com/forbidden/x', {
          callMethod: 'HEAD',
          headers: { Cookie: john },
        });
        assert.equal(forbidden.status, 403);
        assert.equal(forbidden.body, '');
        assert.equal(forbidden.headers['content-length'], String('403 Forbidden'.length));
      });
    });
  }

  it('Basic credentials that check out pass with an empty answer too', async () => {
    const answer = await ask('forward-auth', 'https://app.example.com/', {
      headers: { Authorization: basic('john', PASSWORD) },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['remote-user'], 'john');
    assertEmpty(answer, 'Basic pass');
  });

  // Last: counts what every test above sent.
  it('every answer above came over one connection: Gatehouse closed none of them', async () => {
    const opened = await connections();
    assert.equal(opened, 1, `${opened} connections`);
  });
});
