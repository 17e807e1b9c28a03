// The authz endpoints against the facts of Authelia's own handler tests (internal/handlers/handler_authz*_test.go):
// the same kind of configuration (two cookie domains, a portal with a port, bypass rules per method), the same
// requests, the answers Authelia's tests expect. Where Gatehouse differs on purpose it is said in the test name and in
// docs/decisions.md. Real Redis + PostgreSQL.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, DEFAULT_USERS, PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { basic, sessionAtLevel } from '../../helpers/flows.js';

const METHODS = ['OPTIONS', 'HEAD', 'GET', 'DELETE', 'PATCH', 'POST', 'PUT', 'CONNECT', 'TRACE'];
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const REALM = 'Basic realm="Authorization Required"';
const PORTAL = 'https://login.example.com:8080/';
const PORTAL2 = 'https://auth.example2.com/';

const AUTHELIA_LIKE = {
  session: {
    cookies: [
      {
        domain: 'example.com',
        authelia_url: 'https://login.example.com:8080',
        default_redirection_url: 'https://www.example.com',
      },
      {
        domain: 'example2.com',
        authelia_url: 'https://auth.example2.com',
        default_redirection_url: 'https://www.example2.com',
      },
    ],
  },
  access_control: {
    default_policy: 'deny',
    networks: [
      { name: 'loopback', networks: ['127.0.0.0/8', '::1'] },
      { name: 'lan', networks: ['10.0.0.0/8'] },
    ],
    rules: [
      { domain: ['bypass.example.com', 'bypass.example2.com'], policy: 'bypass' },
      ...METHODS.map((method) => ({
        domain: `bypass-${method.toLowerCase()}.example.com`,
        methods: [method],
        policy: 'bypass',
      })),
      { domain: METHODS.map((method) => `bypass-${method.toLowerCase()}.example.com`), policy: 'one_factor' },
      { domain: ['one-factor.example.com', 'one-factor.example2.com'], policy: 'one_factor' },
      { domain: 'two-factor.example.com', policy: 'two_factor' },
      { domain: 'deny.example.com', policy: 'deny' },
      { domain: 'admin.example.com', subject: 'group:admin', policy: 'two_factor' },
      { domain: 'loopback.example.com', networks: ['loopback'], policy: 'bypass' },
      { domain: 'lan.example.com', networks: ['lan'], policy: 'bypass' },
    ],
  },
};

type Flavour = 'auth-request' | 'forward-auth' | 'legacy';

/** What each proxy sends, as Authelia's setRequest* helpers do (legacy: X-Forwarded-Method + X-Original-URL). */
function ask(
  t: TestGatehouse,
  flavour: Flavour,
  method: string,
  target: string,
  options: { query?: string; accept?: boolean; xhr?: string; headers?: Record<string, string> } = {},
) {
  const path = flavour === 'legacy' ? '/api/verify' : `/api/authz/${flavour}`;
  const req = request(t.url).get(`${path}${options.query ?? ''}`);
  if (flavour === 'auth-request') req.set('X-Original-Method', method).set('X-Original-URL', target);
  else if (flavour === 'legacy') req.set('X-Forwarded-Method', method).set('X-Original-URL', target);
  else {
    const url = /^(https?):\/\/([^/]+)(.*)$/.exec(target)!;
    req
      .set('X-Forwarded-Method', method)
      .set('X-Forwarded-Proto', url[1]!)
      .set('X-Forwarded-Host', url[2]!)
      .set('X-Forwarded-URI', url[3]!);
  }
  if (options.accept !== false) req.set('Accept', 'text/html; charset=utf-8');
  if (options.xhr !== undefined) req.set('X-Requested-With', options.xhr);
  for (const [k, v] of Object.entries(options.headers ?? {})) req.set(k, v);
  return req;
}

function signIn(portal: string, target: string, method: string): string {
  const url = new URL(portal);
  url.searchParams.set('rd', target);
  url.searchParams.set('rm', method);
  return url.href;
}

describe('authz endpoints, as Authelia handler tests expect', () => {
  let t: TestGatehouse;
  let johnLevel1: string;

  beforeAll(async () => {
    // Wrong passwords go to `victim` only: regulation would otherwise ban john for the tests that expect him to pass.
    t = await startGatehouse({
      config: AUTHELIA_LIKE,
      users: { ...DEFAULT_USERS, victim: { displayname: 'Victim', email: 'victim@example.com', groups: [] } },
    });
    johnLevel1 = await sessionAtLevel(t, 'john', 1);
  });
  afterAll(async () => t.close());

  describe('anonymous visitors are sent to the portal (TestShouldHandleAllMethodsDeny)', () => {
    const targets: [string, string][] = [
      ['https://one-factor.example.com', PORTAL],
      ['https://one-factor.example.com/subpath', PORTAL],
      ['https://one-factor.example2.com', PORTAL2],
      ['https://one-factor.example2.com/subpath', PORTAL2],
    ];
    it('auth-request: 401 with the Location, whatever the method', async () => {
      for (const method of METHODS) {
        for (const [target, portal] of targets) {
          const res = await ask(t, 'auth-request', method, target);
          assert.equal(res.status, 401, `${method} ${target}`);
          assert.equal(res.headers.location, signIn(portal, target, method));
        }
      }
    });
    it('forward-auth: 302 for GET, HEAD and OPTIONS, 303 for the others; the target as written travels as rd', async () => {
      for (const method of METHODS) {
        for (const [target, portal] of targets) {
          const res = await ask(t, 'forward-auth', method, target);
          const status = SAFE.has(method) ? 302 : 303;
          assert.equal(res.status, status, `${method} ${target}`);
          assert.equal(res.headers.location, signIn(portal, target, method));
          // Authelia's body: a link to the portal, HTML-escaped; none for HEAD.
          const text =
            method === 'HEAD'
              ? ''
              : `<a href="${signIn(portal, target, method).replace(/&/g, '&amp;')}">${status} ${status === 302 ? 'Found' : 'See Other'}</a>`;
          assert.equal(res.text ?? '', text);
        }
      }
    });
    it('legacy: the portal given as rd, 302 or 303; no rd is a bare 401', async () => {
      for (const method of METHODS) {
        const target = 'https://one-factor.example.com/subpath';
        const res = await ask(t, 'legacy', method, target, { query: '?rd=https%3A%2F%2Fauth.example.com' });
        assert.equal(res.status, SAFE.has(method) ? 302 : 303, method);
        assert.equal(res.headers.location, signIn('https://auth.example.com/', target, method));
        const bare = await ask(t, 'legacy', method, target);
        assert.equal(bare.status, 401);
        assert.equal(bare.headers.location, undefined);
      }
    });
    it('legacy: the portal may come as X-Authelia-URL', async () => {
      const res = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com/', {
        headers: { 'X-Authelia-URL': 'https://auth-from-override.example.com/' },
      });
      assert.equal(res.status, 302);
      assert.equal(
        res.headers.location,
        signIn('https://auth-from-override.example.com/', 'https://one-factor.example.com/', 'GET'),
      );
    });
  });

  describe('XHR and non-HTML clients get 401 with the Location (TestShouldHandleAllMethodsXHRDeny)', () => {
    for (const flavour of ['forward-auth', 'legacy'] as const) {
      it(`${flavour}: X-Requested-With (any case) or no Accept header`, async () => {
        const query = flavour === 'legacy' ? `?rd=${encodeURIComponent(PORTAL)}` : '';
        for (const method of METHODS) {
          for (const options of [{ xhr: 'XMLHttpRequest' }, { xhr: 'xmlhttprequest' }, { accept: false }]) {
            const res = await ask(t, flavour, method, 'https://one-factor.example.com/', { query, ...options });
            assert.equal(res.status, 401, `${method} ${JSON.stringify(options)}`);
            assert.equal(res.headers.location, signIn(PORTAL, 'https://one-factor.example.com/', method));
          }
        }
      });
    }
    it('a leading */* counts as HTML; application/json alone does not', async () => {
      assert.equal(
        (
          await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
            accept: false,
            headers: { Accept: '*/*' },
          })
        ).status,
        302,
      );
      assert.equal(
        (
          await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
            accept: false,
            headers: { Accept: 'application/json, */*' },
          })
        ).status,
        401,
      );
      assert.equal(
        (
          await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
            accept: false,
            headers: { Accept: 'application/json, text/html;q=0.9' },
          })
        ).status,
        302,
      );
    });
  });

  describe('authelia_url overrides the portal (TestShouldHandleAllMethodsOverrideAutheliaURLDeny)', () => {
    for (const flavour of ['auth-request', 'forward-auth'] as const) {
      it(`${flavour}: a portal under the target's cookie domain is used`, async () => {
        for (const method of METHODS) {
          for (const [target, portal] of [
            ['https://one-factor.example.com/subpath', 'https://auth-from-override.example.com/'],
            ['https://one-factor.example2.com', 'https://auth-from-override.example2.com/'],
          ] as const) {
            const res = await ask(t, flavour, method, target, { query: `?authelia_url=${encodeURIComponent(portal)}` });
            assert.equal(res.status, flavour === 'auth-request' ? 401 : SAFE.has(method) ? 302 : 303);
            assert.equal(res.headers.location, signIn(portal, target, method));
          }
        }
      });

      it(`${flavour}: a portal's own query is kept, the keys in Go's order (TestParseAuthzPortalURL)`, async () => {
        const portal = 'https://auth.example.com/path?z=1&rd=https%3A%2F%2Fold.example.com&a=x+y';
        const res = await ask(t, flavour, 'GET', 'https://one-factor.example.com/', {
          query: `?authelia_url=${encodeURIComponent(portal)}`,
        });
        assert.equal(
          res.headers.location,
          'https://auth.example.com/path?a=x+y&rd=https%3A%2F%2Fone-factor.example.com%2F&rm=GET&z=1',
        );
      });

      it(`${flavour}: a malformed portal, another cookie domain's or plain http is 400 with no Location, even for bypass`, async () => {
        for (const portal of [
          'JKL$#N%KJ#@$N',
          'https://auth.example2.com/',
          'https://evil.com/',
          'http://auth.example.com/',
          'https://auth.example.com@evil.com/',
          '//evil.com',
        ]) {
          const res = await ask(t, flavour, 'GET', 'https://bypass.example.com/', {
            query: `?authelia_url=${encodeURIComponent(portal)}`,
          });
          assert.equal(res.status, 400, portal);
          // nginx never reads an auth-request answer's body, so it has none (keepalive-answers.test.ts).
          assert.equal(res.text ?? '', flavour === 'auth-request' ? '' : '400 Bad Request');
          assert.equal(res.headers.location, undefined);
        }
      });
    }

    it("legacy: an rd under another cookie domain than the target's is refused with 401, never a sign-in loop", async () => {
      for (const rd of ['https://auth.example2.com/', 'JKL$#N%KJ#@$N', 'https://evil.com/']) {
        const res = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com/', {
          query: `?rd=${encodeURIComponent(rd)}`,
        });
        assert.equal(res.status, 401, rd);
        assert.equal(res.headers.location, undefined);
        const bypass = await ask(t, 'legacy', 'GET', 'https://bypass.example.com/', {
          query: `?rd=${encodeURIComponent(rd)}`,
        });
        assert.equal(bypass.status, 401, `bypass ${rd}`);
      }
    });
  });

  describe('bypass and method rules (TestShouldHandleAllMethodsAllow, ...WithMethodsACL)', () => {
    for (const flavour of ['auth-request', 'forward-auth', 'legacy'] as const) {
      it(`${flavour}: a bypass target passes for every method without a Location`, async () => {
        for (const method of METHODS) {
          for (const target of [
            'https://bypass.example.com',
            'https://bypass.example.com/subpath',
            'https://bypass.example2.com/subpath',
          ]) {
            const res = await ask(t, flavour, method, target);
            assert.equal(res.status, 200, `${method} ${target}`);
            assert.equal(res.headers.location, undefined);
          }
        }
      });

      it(`${flavour}: a methods rule bypasses only its method`, async () => {
        for (const ruleMethod of METHODS) {
          const target = `https://bypass-${ruleMethod.toLowerCase()}.example.com`;
          for (const method of METHODS) {
            const res = await ask(t, flavour, method, target, {
              query: flavour === 'legacy' ? `?rd=${encodeURIComponent(PORTAL)}` : '',
            });
            if (method === ruleMethod) assert.equal(res.status, 200, `${method} on ${target}`);
            else assert.equal(res.headers.location, signIn(PORTAL, target, method), `${method} on ${target}`);
          }
        }
      });
    }
  });

  describe('methods: upper-case letters only (TestShouldHandleInvalidMethodCharsDeny)', () => {
    for (const flavour of ['auth-request', 'forward-auth', 'legacy'] as const) {
      it(`${flavour}: GETz, get and G3T are refused (400; legacy 401), with no Location`, async () => {
        for (const method of [...METHODS.map((m) => `${m}z`), 'get', 'G3T']) {
          const res = await ask(t, flavour, method, 'https://bypass.example.com/');
          assert.equal(res.status, flavour === 'legacy' ? 401 : 400, method);
          assert.equal(res.headers.location, undefined);
        }
      });
    }
    it('a lower-case method can never match a methods rule', async () => {
      const res = await ask(t, 'auth-request', 'get', 'https://bypass-get.example.com/');
      assert.equal(res.status, 400);
    });
  });

  describe('targets the handler cannot use', () => {
    it('forward-auth without X-Forwarded-Host is 400; legacy is 401 (TestShouldHandleMissingHostDeny)', async () => {
      for (const method of METHODS) {
        const res = await request(t.url)
          .get('/api/authz/forward-auth')
          .set('X-Forwarded-Method', method)
          .set('X-Forwarded-Proto', 'https')
          .set('X-Forwarded-URI', '/')
          .set('Accept', 'text/html');
        assert.equal(res.status, 400);
        const legacy = await request(t.url)
          .get('/api/verify')
          .set('X-Forwarded-Method', method)
          .set('X-Forwarded-Proto', 'https')
          .set('X-Forwarded-URI', '/')
          .set('Accept', 'text/html');
        assert.equal(legacy.status, 401);
        assert.equal(legacy.headers.location, undefined);
      }
    });
    it('auth-request without X-Original-URL or X-Original-Method is 400', async () => {
      assert.equal((await request(t.url).get('/api/authz/auth-request').set('X-Original-Method', 'GET')).status, 400);
      assert.equal(
        (await request(t.url).get('/api/authz/auth-request').set('X-Original-URL', 'https://bypass.example.com/'))
          .status,
        400,
      );
    });
    it('X-Forwarded-Proto is compared case-insensitively: HTTPS is https', async () => {
      const res = await request(t.url)
        .get('/api/authz/forward-auth')
        .set('X-Forwarded-Method', 'GET')
        .set('X-Forwarded-Proto', 'HTTPS')
        .set('X-Forwarded-Host', 'bypass.example.com')
        .set('X-Forwarded-URI', '/');
      assert.equal(res.status, 200);
    });
    it('an http target on an https cookie domain is refused', async () => {
      assert.equal((await ask(t, 'auth-request', 'GET', 'http://bypass.example.com/')).status, 400);
      assert.equal((await ask(t, 'legacy', 'GET', 'http://bypass.example.com/')).status, 401);
    });
  });

  describe('Basic credentials (TestShouldApplyPolicyOf*, TestShouldNotBeAbleToParseBasicAuth, TestShouldHandleAnyCaseSchemeParameter)', () => {
    const john = basic('john', PASSWORD);
    const wrong = basic('victim', 'wrong password');

    it('Authorization (the default in Authelia 4.38+) and Proxy-Authorization both pass one_factor on auth-request and forward-auth', async () => {
      for (const flavour of ['auth-request', 'forward-auth'] as const) {
        for (const header of ['Authorization', 'Proxy-Authorization']) {
          const res = await ask(t, flavour, 'GET', 'https://one-factor.example.com/', { headers: { [header]: john } });
          assert.equal(res.status, 200, `${flavour} ${header}`);
          assert.equal(res.headers['remote-user'], 'john');
          assert.equal(res.headers['www-authenticate'], undefined);
          assert.equal(res.headers['proxy-authenticate'], undefined);
        }
      }
    });

    it('the scheme is case-insensitive', async () => {
      for (const scheme of ['Basic', 'basic', 'BASIC', 'BaSIc']) {
        const res = await ask(t, 'auth-request', 'GET', 'https://one-factor.example.com/', {
          headers: { 'Proxy-Authorization': john.replace('Basic', scheme) },
        });
        assert.equal(res.status, 200, scheme);
      }
    });

    it('wrong or unparsable credentials: auth-request 401 WWW-Authenticate, forward-auth 407 Proxy-Authenticate (Proxy-Authorization)', async () => {
      for (const value of [
        wrong,
        `Basic ${Buffer.from('victim:').toString('base64').slice(0, 8)}aaaaaaaaaaaaaaaa`,
        'Basic %%%',
        'Digest abc',
        'Basic',
      ]) {
        const auth = await ask(t, 'auth-request', 'GET', 'https://one-factor.example.com/', {
          headers: { 'Proxy-Authorization': value },
        });
        assert.equal(auth.status, 401, value);
        assert.equal(auth.headers['www-authenticate'], REALM);
        assert.equal(auth.headers['proxy-authenticate'], undefined);
        assert.equal(auth.headers.location, undefined);
        const fwd = await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
          headers: { 'Proxy-Authorization': value },
        });
        assert.equal(fwd.status, 407, value);
        assert.equal(fwd.headers['proxy-authenticate'], REALM);
        assert.equal(fwd.headers['www-authenticate'], undefined);
      }
    });

    it('wrong Authorization credentials are 401 WWW-Authenticate on both endpoints', async () => {
      for (const flavour of ['auth-request', 'forward-auth'] as const) {
        const res = await ask(t, flavour, 'GET', 'https://one-factor.example.com/', {
          headers: { Authorization: wrong },
        });
        assert.equal(res.status, 401);
        assert.equal(res.headers['www-authenticate'], REALM);
        assert.equal(res.text ?? '', flavour === 'auth-request' ? '' : '401 Unauthorized');
      }
    });

    it('valid credentials for a two_factor resource: the challenge again (level 1 at most), never a redirect', async () => {
      const auth = await ask(t, 'auth-request', 'GET', 'https://two-factor.example.com/', {
        headers: { 'Proxy-Authorization': john },
      });
      assert.equal(auth.status, 401);
      assert.equal(auth.headers['www-authenticate'], REALM);
      const fwd = await ask(t, 'forward-auth', 'GET', 'https://two-factor.example.com/', {
        headers: { 'Proxy-Authorization': john },
      });
      assert.equal(fwd.status, 407);
      assert.equal(fwd.headers['proxy-authenticate'], REALM);
      assert.equal(fwd.headers.location, undefined);
    });

    it('valid credentials for a deny resource are 403', async () => {
      for (const flavour of ['auth-request', 'forward-auth'] as const) {
        assert.equal(
          (await ask(t, flavour, 'GET', 'https://deny.example.com/', { headers: { Authorization: john } })).status,
          403,
        );
      }
    });

    it('wrong credentials still pass a bypass rule, anonymously (TestShouldVerifyBypassWithErrorToGetDetailsUsingBasicScheme)', async () => {
      const res = await ask(t, 'forward-auth', 'GET', 'https://bypass.example.com/', {
        headers: { 'Proxy-Authorization': wrong },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['remote-user'], undefined);
    });

    it("a bearer token in Authorization is not Gatehouse's: it is passed by and the visitor is anonymous", async () => {
      const res = await ask(t, 'auth-request', 'GET', 'https://one-factor.example.com/', {
        headers: { Authorization: 'Bearer some-token' },
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers.location, signIn(PORTAL, 'https://one-factor.example.com/', 'GET'));
    });

    it('a wrong header beats a valid session (the header strategies come first)', async () => {
      const res = await ask(t, 'auth-request', 'GET', 'https://one-factor.example.com/', {
        headers: { Authorization: wrong, Cookie: johnLevel1 },
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], REALM);
    });
  });

  describe('/api/verify?auth=basic (TestShouldHandleLegacyBasicAuth, ...Failures)', () => {
    it('valid Authorization passes', async () => {
      const res = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com', {
        query: '?auth=basic',
        headers: { Authorization: basic('john', PASSWORD) },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['remote-user'], 'john');
    });

    it('every failure is 401 with WWW-Authenticate, including no credentials at all, and a valid session does not count', async () => {
      const cases: [string, Record<string, string>][] = [
        ['header absent', {}],
        ['header empty', { Authorization: '' }],
        ['only Proxy-Authorization', { 'Proxy-Authorization': basic('john', PASSWORD) }],
        ['unsupported scheme', { Authorization: 'Bearer some-token' }],
        ['user not found', { Authorization: basic('nobody', PASSWORD) }],
        ['wrong password', { Authorization: basic('victim', 'wrong') }],
        ['disabled user', { Authorization: basic('bob', PASSWORD) }],
        ['a session instead of credentials', { Cookie: johnLevel1 }],
      ];
      for (const [name, headers] of cases) {
        const res = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com', { query: '?auth=basic', headers });
        assert.equal(res.status, 401, name);
        assert.equal(res.text, '401 Unauthorized', name);
        assert.equal(res.headers['www-authenticate'], REALM, name);
        assert.equal(res.headers.location, undefined, name);
      }
    });

    it('valid credentials without access (two_factor) are 401 with WWW-Authenticate', async () => {
      const res = await ask(t, 'legacy', 'GET', 'https://two-factor.example.com/', {
        query: '?auth=basic',
        headers: { Authorization: basic('john', PASSWORD) },
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], REALM);
    });

    it('without ?auth=basic, legacy reads Proxy-Authorization (HeaderLegacy)', async () => {
      const ok = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com/', {
        headers: { 'Proxy-Authorization': basic('john', PASSWORD) },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['remote-user'], 'john');
      const bad = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com/', {
        headers: { 'Proxy-Authorization': basic('victim', 'wrong') },
      });
      assert.equal(bad.status, 401);
      assert.equal(bad.headers['www-authenticate'], REALM);
      const ignored = await ask(t, 'legacy', 'GET', 'https://one-factor.example.com/', {
        query: `?rd=${encodeURIComponent(PORTAL)}`,
        headers: { Authorization: basic('john', PASSWORD) },
      });
      assert.equal(ignored.status, 302);
    });
  });

  describe('Session-Username (TestShouldCheck*SessionUsernameHeader*)', () => {
    it('a matching name (any case) passes; another name ends the session', async () => {
      const session = await sessionAtLevel(t, 'john', 1);
      const ok = await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
        headers: { Cookie: session, 'Session-Username': 'JOHN' },
      });
      assert.equal(ok.status, 200);
      const other = await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
        headers: { Cookie: session, 'Session-Username': 'root' },
      });
      assert.equal(other.status, 302);
      assert.equal(other.headers.location, signIn(PORTAL, 'https://one-factor.example.com/', 'GET'));
      const after = await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
        headers: { Cookie: session },
      });
      assert.equal(after.status, 302, 'the session was destroyed');
    });
  });

  describe('session activity (TestShouldUpdateInactivityTimestampEvenWhenHittingForbiddenResources)', () => {
    it('a request answered 403 still counts as activity', async () => {
      const pair = await sessionAtLevel(t, 'john', 1);
      const cookie = t.loaded.cookies.find((c) => c.domain === 'example.com')!;
      const id = pair.slice(pair.indexOf('=') + 1);
      const before = (await t.gatehouse.services.sessions.load([id], cookie))!.data.lastActivity;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal(
        (await ask(t, 'forward-auth', 'GET', 'https://deny.example.com/', { headers: { Cookie: pair } })).status,
        403,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = (await t.gatehouse.services.sessions.load([id], cookie))!.data.lastActivity;
      assert.ok(after > before, `lastActivity ${before} -> ${after}`);
    });
  });

  describe('the client address for networks rules (X-Forwarded-For, no trusted proxies configured)', () => {
    it('the leftmost entry is believed, as Authelia', async () => {
      assert.equal(
        (
          await ask(t, 'auth-request', 'GET', 'https://lan.example.com/', {
            headers: { 'X-Forwarded-For': '10.1.2.3, 192.0.2.1' },
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await ask(t, 'auth-request', 'GET', 'https://lan.example.com/', {
            headers: { 'X-Forwarded-For': '192.0.2.1, 10.1.2.3' },
          })
        ).status,
        403,
      );
    });
    it('without the header the peer is the client', async () => {
      assert.equal((await ask(t, 'auth-request', 'GET', 'https://loopback.example.com/')).status, 200);
    });
    it("a blank or garbled header is no 400, and never lets the proxy's own address pass a networks rule (Authelia would use the peer)", async () => {
      for (const value of ['', 'not-an-ip', 'unknown, 127.0.0.1', '127.0.0.1:8080', ', 127.0.0.1']) {
        for (const flavour of ['auth-request', 'forward-auth'] as const) {
          const res = await ask(t, flavour, 'GET', 'https://loopback.example.com/', {
            headers: { 'X-Forwarded-For': value },
          });
          assert.equal(res.status, 403, `${flavour} '${value}'`);
        }
      }
    });
  });
});

describe('server.trusted_proxies: whose X-Forwarded-For is believed', () => {
  it('from an untrusted peer the header is ignored: a client reaching Gatehouse directly cannot pick its address', async () => {
    const t = await startGatehouse({ config: { ...AUTHELIA_LIKE, server: { trusted_proxies: ['192.0.2.0/24'] } } });
    try {
      const res = await ask(t, 'auth-request', 'GET', 'https://lan.example.com/', {
        headers: { 'X-Forwarded-For': '10.1.2.3' },
      });
      assert.equal(res.status, 403);
      // The peer (127.0.0.1) itself is the client.
      assert.equal(
        (
          await ask(t, 'auth-request', 'GET', 'https://loopback.example.com/', {
            headers: { 'X-Forwarded-For': '10.1.2.3' },
          })
        ).status,
        200,
      );
    } finally {
      await t.close();
    }
  });

  it('from a trusted peer the rightmost untrusted entry is the client; entries a client prepends do not count', async () => {
    const t = await startGatehouse({ config: { ...AUTHELIA_LIKE, server: { trusted_proxies: ['127.0.0.1', '::1'] } } });
    try {
      assert.equal(
        (
          await ask(t, 'auth-request', 'GET', 'https://lan.example.com/', {
            headers: { 'X-Forwarded-For': '10.1.2.3' },
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await ask(t, 'auth-request', 'GET', 'https://lan.example.com/', {
            headers: { 'X-Forwarded-For': '10.1.2.3, 192.0.2.1' },
          })
        ).status,
        403,
      );
      assert.equal(
        (await ask(t, 'auth-request', 'GET', 'https://lan.example.com/', { headers: { 'X-Forwarded-For': 'garbage' } }))
          .status,
        403,
      );
    } finally {
      await t.close();
    }
  });
});

describe('server.endpoints.authz: endpoints and strategies chosen by the operator', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({
      config: {
        ...AUTHELIA_LIKE,
        server: {
          endpoints: {
            authz: {
              'forward-auth': {
                implementation: 'ForwardAuth',
                authn_strategies: [{ name: 'HeaderProxyAuthorization', schemes: ['basic'] }, { name: 'CookieSession' }],
              },
              'api/nginx': {
                implementation: 'AuthRequest',
                authn_strategies: [{ name: 'HeaderAuthorization', schemes: ['Basic'] }],
              },
              legacy: {},
            },
          },
        },
      },
    });
  });
  afterAll(async () => t.close());

  it('only the configured endpoints are served (the map replaces the defaults, as in Authelia)', async () => {
    const res = await request(t.url)
      .get('/api/authz/auth-request')
      .set('X-Original-URL', 'https://bypass.example.com/')
      .set('X-Original-Method', 'GET');
    assert.notEqual(res.status, 200);
    assert.equal((await ask(t, 'legacy', 'GET', 'https://bypass.example.com/')).status, 200);
  });

  it('a custom name is served at /api/authz/<name>', async () => {
    const res = await request(t.url)
      .get('/api/authz/api/nginx')
      .set('X-Original-URL', 'https://one-factor.example.com/')
      .set('X-Original-Method', 'GET')
      .set('Authorization', basic('john', PASSWORD));
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'john');
  });

  it('with a header strategy last and no credentials, the answer is its challenge (TestShouldHandleAuthzWithoutHeaderNoCookie)', async () => {
    const res = await request(t.url)
      .get('/api/authz/api/nginx')
      .set('X-Original-URL', 'https://one-factor.example.com/')
      .set('X-Original-Method', 'GET');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], REALM);
    assert.equal(res.headers.location, undefined);
  });

  it('a header the endpoint does not read is ignored (TestShouldHandleAuthzWithIncorrectAuthHeader)', async () => {
    const res = await request(t.url)
      .get('/api/authz/api/nginx')
      .set('X-Original-URL', 'https://one-factor.example.com/')
      .set('X-Original-Method', 'GET')
      .set('Proxy-Authorization', basic('john', PASSWORD));
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], REALM);
    const fwd = await ask(t, 'forward-auth', 'GET', 'https://one-factor.example.com/', {
      headers: { Authorization: basic('john', PASSWORD) },
    });
    assert.equal(fwd.status, 302);
  });
});
