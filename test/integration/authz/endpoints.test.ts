// SPEC §4: what the proxies get back from the authz endpoints, against real Redis + PostgreSQL and against the
// embedded defaults (memory sessions + PGlite). One body, two back ends.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, forwardAuth, sessionAtLevel, signIn } from '../../helpers/flows.js';

const BACKENDS = [
  { name: 'Redis + PostgreSQL', sessions: 'redis', storage: 'postgres' },
  { name: 'memory + embedded', sessions: 'memory', storage: 'embedded' },
] as const;

function signInLocation(target: string, method = 'GET', portal = 'https://auth.example.com/'): string {
  return `${portal}?rd=${encodeURIComponent(target)}&rm=${method}`;
}

for (const backend of BACKENDS) {
  describe(`authz endpoints (${backend.name})`, () => {
    let t: TestGatehouse;
    let john: string;
    let harry: string;
    let johnLevel2: string;

    beforeAll(async () => {
      t = await startGatehouse({ sessions: backend.sessions, storage: backend.storage });
      john = await signIn(t, 'john');
      harry = await signIn(t, 'harry');
      johnLevel2 = await sessionAtLevel(t, 'john', 2);
    });
    afterAll(async () => t.close());

    describe('auth-request (nginx)', () => {
      it('an anonymous request to a protected app is 401 with the portal Location, rd and rm', async () => {
        const res = await authRequest(t, 'https://app.example.com/some/page?x=1');
        assert.equal(res.status, 401);
        assert.equal(res.headers.location, signInLocation('https://app.example.com/some/page?x=1'));
      });

      it('the method of the original request travels as rm', async () => {
        const res = await authRequest(t, 'https://app.example.com/form', { method: 'POST' });
        assert.equal(res.status, 401);
        assert.equal(res.headers.location, signInLocation('https://app.example.com/form', 'POST'));
      });

      it('a bypass rule lets an anonymous request pass without identity headers', async () => {
        const res = await authRequest(t, 'https://public.example.com/');
        assert.equal(res.status, 200);
        assert.equal(res.headers['remote-user'], undefined);
      });

      it('default_policy deny gives an anonymous request 403, not a sign-in page', async () => {
        const res = await authRequest(t, 'https://unlisted.example.com/');
        assert.equal(res.status, 403);
        assert.equal(res.headers.location, undefined);
      });

      it('a signed-in user passes a one_factor rule with Remote-User, -Groups, -Name and -Email', async () => {
        const res = await authRequest(t, 'https://app.example.com/', { cookie: john });
        assert.equal(res.status, 200);
        assert.equal(res.headers['remote-user'], 'john');
        assert.equal(res.headers['remote-groups'], 'admins,dev');
        assert.equal(res.headers['remote-name'], 'John Doe');
        assert.equal(res.headers['remote-email'], 'john.doe@example.com');
      });

      it('a wildcard domain rule matches subdomains', async () => {
        const res = await authRequest(t, 'https://wiki.apps.example.com/', { cookie: john });
        assert.equal(res.status, 200);
      });

      it('level 1 is sent to the portal for a two_factor rule; level 2 passes', async () => {
        const low = await authRequest(t, 'https://secure.example.com/', { cookie: john });
        assert.equal(low.status, 401);
        assert.equal(low.headers.location, signInLocation('https://secure.example.com/'));
        const high = await authRequest(t, 'https://secure.example.com/', { cookie: johnLevel2 });
        assert.equal(high.status, 200);
        assert.equal(high.headers['remote-user'], 'john');
      });

      it('a deny rule is 403 for a signed-in user', async () => {
        const res = await authRequest(t, 'https://app.example.com/forbidden/x', { cookie: john });
        assert.equal(res.status, 403);
      });

      it('a rule with a subject sends the anonymous to sign in, then decides for the real user', async () => {
        const anonymous = await authRequest(t, 'https://admin.example.com/');
        assert.equal(anonymous.status, 401);
        assert.equal((await authRequest(t, 'https://admin.example.com/', { cookie: harry })).status, 403);
        assert.equal((await authRequest(t, 'https://admin.example.com/', { cookie: john })).status, 200);
      });

      it('networks rules use the leftmost X-Forwarded-For entry', async () => {
        const inside = await authRequest(t, 'https://internal.example.com/', {
          headers: { 'X-Forwarded-For': '10.1.2.3, 192.168.0.1' },
        });
        assert.equal(inside.status, 200);
        const outside = await authRequest(t, 'https://internal.example.com/', {
          headers: { 'X-Forwarded-For': '192.168.0.1, 10.1.2.3' },
        });
        assert.equal(outside.status, 403);
      });

      it('only GET and HEAD are accepted', async () => {
        const res = await request(t.url)
          .post('/api/authz/auth-request')
          .set('X-Original-URL', 'https://app.example.com/')
          .set('X-Original-Method', 'GET');
        assert.equal(res.status, 405);
        const head = await request(t.url)
          .head('/api/authz/auth-request')
          .set('X-Original-URL', 'https://app.example.com/')
          .set('X-Original-Method', 'GET')
          .set('Cookie', john);
        assert.equal(head.status, 200);
      });
    });

    describe('malformed targets are 400: never a pass, never a redirect', () => {
      const cases: [string, Record<string, string>][] = [
        ['missing X-Original-URL', { 'X-Original-Method': 'GET' }],
        ['missing X-Original-Method', { 'X-Original-URL': 'https://app.example.com/' }],
        ['a relative URL', { 'X-Original-URL': '/admin', 'X-Original-Method': 'GET' }],
        ['garbage', { 'X-Original-URL': '%%%not a url', 'X-Original-Method': 'GET' }],
        ['a host outside every cookie domain', { 'X-Original-URL': 'https://evil.com/', 'X-Original-Method': 'GET' }],
        ['a look-alike host', { 'X-Original-URL': 'https://evilexample.com/', 'X-Original-Method': 'GET' }],
        [
          'http for an https cookie domain',
          { 'X-Original-URL': 'http://app.example.com/', 'X-Original-Method': 'GET' },
        ],
        ['another scheme', { 'X-Original-URL': 'ftp://app.example.com/', 'X-Original-Method': 'GET' }],
        ['userinfo', { 'X-Original-URL': 'https://app.example.com@evil.com/', 'X-Original-Method': 'GET' }],
        ['a backslash', { 'X-Original-URL': 'https://app.example.com\\@evil.com/', 'X-Original-Method': 'GET' }],
        ['a method with symbols', { 'X-Original-URL': 'https://app.example.com/', 'X-Original-Method': 'GET /x' }],
        [
          'a lower-case method (Authelia: A-Z only)',
          { 'X-Original-URL': 'https://app.example.com/', 'X-Original-Method': 'get' },
        ],
        ['a method with a stray letter', { 'X-Original-URL': 'https://app.example.com/', 'X-Original-Method': 'GETz' }],
      ];
      for (const [name, headers] of cases) {
        it(`${name} (auth-request)`, async () => {
          const req = request(t.url).get('/api/authz/auth-request').set('Cookie', john);
          for (const [k, v] of Object.entries(headers)) req.set(k, v);
          const res = await req;
          assert.equal(res.status, 400);
          assert.equal(res.headers.location, undefined);
          assert.equal(res.headers['remote-user'], undefined);
        });
      }

      const forwarded: [string, Record<string, string>][] = [
        [
          'missing X-Forwarded-Host',
          { 'X-Forwarded-Method': 'GET', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Uri': '/' },
        ],
        [
          'a host with a path in it',
          {
            'X-Forwarded-Method': 'GET',
            'X-Forwarded-Proto': 'https',
            'X-Forwarded-Host': 'evil.com/.example.com',
            'X-Forwarded-Uri': '/',
          },
        ],
        [
          'a host with userinfo',
          {
            'X-Forwarded-Method': 'GET',
            'X-Forwarded-Proto': 'https',
            'X-Forwarded-Host': 'app.example.com@evil.com',
            'X-Forwarded-Uri': '/',
          },
        ],
        [
          'a URI without a leading slash',
          {
            'X-Forwarded-Method': 'GET',
            'X-Forwarded-Proto': 'https',
            'X-Forwarded-Host': 'app.example.com',
            'X-Forwarded-Uri': '@evil.com/',
          },
        ],
        [
          'a protocol-relative URI',
          {
            'X-Forwarded-Method': 'GET',
            'X-Forwarded-Proto': 'https',
            'X-Forwarded-Host': 'app.example.com',
            'X-Forwarded-Uri': '//evil.com/',
          },
        ],
        [
          'an unknown proto',
          {
            'X-Forwarded-Method': 'GET',
            'X-Forwarded-Proto': 'javascript',
            'X-Forwarded-Host': 'app.example.com',
            'X-Forwarded-Uri': '/',
          },
        ],
      ];
      for (const [name, headers] of forwarded) {
        it(`${name} (forward-auth)`, async () => {
          const req = request(t.url).get('/api/authz/forward-auth').set('Cookie', john);
          for (const [k, v] of Object.entries(headers)) req.set(k, v);
          const res = await req;
          assert.equal(res.status, 400);
          assert.equal(res.headers.location, undefined);
        });
      }
    });

    describe('forward-auth (Traefik, Caddy)', () => {
      it('an anonymous browser GET is redirected with 302', async () => {
        const res = await forwardAuth(t, 'https://app.example.com/page');
        assert.equal(res.status, 302);
        assert.equal(res.headers.location, signInLocation('https://app.example.com/page'));
      });

      it('an anonymous POST is redirected with 303', async () => {
        const res = await forwardAuth(t, 'https://app.example.com/form', { method: 'POST' });
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, signInLocation('https://app.example.com/form', 'POST'));
      });

      it('XMLHttpRequest and non-HTML clients get 401 with the Location', async () => {
        const xhr = await forwardAuth(t, 'https://app.example.com/api', {
          headers: { 'X-Requested-With': 'XMLHttpRequest' },
        });
        assert.equal(xhr.status, 401);
        assert.equal(xhr.headers.location, signInLocation('https://app.example.com/api'));
        const json = await forwardAuth(t, 'https://app.example.com/api', { headers: { Accept: 'application/json' } });
        assert.equal(json.status, 401);
        const star = await forwardAuth(t, 'https://app.example.com/api', { headers: { Accept: '*/*' } });
        assert.equal(star.status, 302);
      });

      it('a signed-in user passes with identity headers', async () => {
        const res = await forwardAuth(t, 'https://app.example.com/', { cookie: john });
        assert.equal(res.status, 200);
        assert.equal(res.headers['remote-user'], 'john');
      });

      it('each cookie domain sends to its own portal', async () => {
        const res = await forwardAuth(t, 'https://app.example.org/');
        assert.equal(res.status, 302);
        assert.equal(
          res.headers.location,
          signInLocation('https://app.example.org/', 'GET', 'https://login.example.org/'),
        );
      });
    });

    describe('/api/verify (legacy)', () => {
      it('redirects a browser to the portal given as ?rd=', async () => {
        const res = await request(t.url)
          .get('/api/verify?rd=https%3A%2F%2Fauth.example.com')
          .set('X-Original-URL', 'https://app.example.com/x')
          .set('Accept', 'text/html');
        assert.equal(res.status, 302);
        assert.equal(
          res.headers.location,
          signInLocation('https://app.example.com/x', 'GET', 'https://auth.example.com/'),
        );
      });

      it('is a plain 401 without a portal, or with an unsafe one', async () => {
        const none = await request(t.url).get('/api/verify').set('X-Original-URL', 'https://app.example.com/x');
        assert.equal(none.status, 401);
        assert.equal(none.headers.location, undefined);
        const evil = await request(t.url)
          .get('/api/verify?rd=https%3A%2F%2Fevil.com')
          .set('X-Original-URL', 'https://app.example.com/x');
        assert.equal(evil.status, 401);
        assert.equal(evil.headers.location, undefined);
      });

      it('reads X-Forwarded-* when there is no X-Original-URL, and accepts any method', async () => {
        const res = await request(t.url)
          .post('/api/verify')
          .set('X-Forwarded-Proto', 'https')
          .set('X-Forwarded-Host', 'app.example.com')
          .set('X-Forwarded-Uri', '/')
          .set('Cookie', john);
        assert.equal(res.status, 200);
        assert.equal(res.headers['remote-user'], 'john');
      });

      it('accepts Basic credentials with ?auth=basic', async () => {
        const ok = await request(t.url)
          .get('/api/verify?auth=basic')
          .set('X-Original-URL', 'https://app.example.com/')
          .set('Authorization', basic('harry', PASSWORD));
        assert.equal(ok.status, 200);
        assert.equal(ok.headers['remote-user'], 'harry');
        const bad = await request(t.url)
          .get('/api/verify?auth=basic')
          .set('X-Original-URL', 'https://app.example.com/')
          .set('Authorization', basic('harry', 'wrong'));
        assert.equal(bad.status, 401);
        assert.match(String(bad.headers['www-authenticate']), /^Basic /);
      });
    });

    describe('HTTP Basic credentials for API clients', () => {
      it('Proxy-Authorization on auth-request: right passes as level 1, wrong is 401 with WWW-Authenticate', async () => {
        const ok = await authRequest(t, 'https://app.example.com/', {
          headers: { 'Proxy-Authorization': basic('harry', PASSWORD) },
        });
        assert.equal(ok.status, 200);
        assert.equal(ok.headers['remote-user'], 'harry');
        const bad = await authRequest(t, 'https://app.example.com/', {
          headers: { 'Proxy-Authorization': basic('harry', 'nope') },
        });
        assert.equal(bad.status, 401);
        assert.match(String(bad.headers['www-authenticate']), /^Basic /);
      });

      it('Proxy-Authorization on forward-auth: wrong is 407 with Proxy-Authenticate', async () => {
        const bad = await forwardAuth(t, 'https://app.example.com/', {
          headers: { 'Proxy-Authorization': basic('nobody', 'nope') },
        });
        assert.equal(bad.status, 407);
        assert.match(String(bad.headers['proxy-authenticate']), /^Basic /);
        const garbled = await forwardAuth(t, 'https://app.example.com/', {
          headers: { 'Proxy-Authorization': 'Basic %%%' },
        });
        assert.equal(garbled.status, 407);
      });

      it('Basic credentials count as level 1 at most: a two_factor resource answers with the challenge, never a redirect', async () => {
        const res = await authRequest(t, 'https://secure.example.com/', {
          headers: { 'Proxy-Authorization': basic('john', PASSWORD) },
        });
        assert.equal(res.status, 401);
        assert.equal(res.headers['www-authenticate'], 'Basic realm="Authorization Required"');
        assert.equal(res.headers.location, undefined);
      });

      it('a disabled user cannot use Basic credentials', async () => {
        const res = await authRequest(t, 'https://app.example.com/', {
          headers: { 'Proxy-Authorization': basic('bob', PASSWORD) },
        });
        assert.equal(res.status, 401);
      });
    });

    describe('sessions as the authz path sees them', () => {
      it('a cookie that is not a session is anonymous', async () => {
        for (const cookie of [
          'gatehouse_session=garbage',
          'gatehouse_session=',
          `gatehouse_session=${'A'.repeat(43)}`,
          'other=1',
          'gatehouse_session=%00%0d%0a',
        ]) {
          const res = await authRequest(t, 'https://app.example.com/', { cookie });
          assert.equal(res.status, 401, cookie);
        }
      });

      it('a session presented for another cookie domain is destroyed', async () => {
        const session = await signIn(t, 'harry');
        assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: session })).status, 200);
        const elsewhere = await authRequest(t, 'https://app.example.org/', { cookie: session });
        assert.equal(elsewhere.status, 401);
        assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: session })).status, 401);
      });

      it('oversized headers are refused by the server, not passed', async () => {
        const res = await authRequest(t, 'https://app.example.com/', {
          cookie: `gatehouse_session=${'x'.repeat(20_000)}`,
        }).ok(() => true);
        assert.equal(res.status, 431);
      });
    });
  });
}
