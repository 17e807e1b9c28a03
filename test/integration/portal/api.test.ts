// SPEC §5, §6, §8: the portal's pages and JSON API against real Redis + PostgreSQL.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, firstFactor, PORTAL, sessionCookieFrom, setCookieHeaders, signIn } from '../../helpers/flows.js';

const AUTH_FAILED = 'Authentication failed. Check your credentials.';

describe('portal JSON API', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'redis', storage: 'postgres' });
  });
  afterAll(async () => t.close());

  const api = (method: 'get' | 'post', path: string) => request(t.url)[method](path).set('Host', 'auth.example.com');

  describe('GET /api/health', () => {
    it('is 200 while Redis and storage answer', async () => {
      const res = await request(t.url).get('/api/health');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'OK' });
    });
  });

  describe('GET /api/state', () => {
    it('is anonymous at level 0 without a session', async () => {
      const res = await api('get', '/api/state');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'OK', data: { username: '', authentication_level: 0, elevated: false } });
    });

    it('shows the signed-in user at level 1', async () => {
      const cookie = await signIn(t, 'harry');
      const res = await api('get', '/api/state').set('Cookie', cookie);
      assert.deepEqual(res.body.data, { username: 'harry', authentication_level: 1, elevated: false });
    });
  });

  describe('POST /api/firstfactor', () => {
    it('signs in and sets an HttpOnly, Secure, SameSite, domain-wide session cookie that is not persistent', async () => {
      const res = await firstFactor(t, { username: 'john', password: PASSWORD });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'OK');
      const header = setCookieHeaders(res).find((c) => c.startsWith('gatehouse_session='))!;
      assert.match(header, /HttpOnly/i);
      assert.match(header, /Secure/i);
      assert.match(header, /SameSite=Lax/i);
      assert.match(header, /Domain=example\.com/i);
      assert.doesNotMatch(header, /Max-Age|Expires/i);
    });

    it('"remember me" makes the cookie persistent', async () => {
      const res = await firstFactor(t, { username: 'john', password: PASSWORD, keepMeLoggedIn: true });
      const header = setCookieHeaders(res).find((c) => c.startsWith('gatehouse_session='))!;
      assert.match(header, /Max-Age=\d+/i);
    });

    it('issues a new session ID on sign-in (no fixation)', async () => {
      const first = await signIn(t, 'john');
      const res = await firstFactor(t, { username: 'john', password: PASSWORD }, { cookie: first });
      const second = sessionCookieFrom(res)!;
      assert.notEqual(second, first);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: first })).status, 401);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: second })).status, 200);
    });

    it('wrong password, unknown user and disabled user get the same 401 and message', async () => {
      for (const body of [
        { username: 'harry', password: 'wrong' },
        { username: 'nobody-here', password: PASSWORD },
        { username: 'bob', password: PASSWORD },
      ]) {
        const res = await firstFactor(t, body);
        assert.equal(res.status, 401, JSON.stringify(body));
        assert.deepEqual(res.body, { status: 'KO', message: AUTH_FAILED });
        assert.equal(sessionCookieFrom(res), undefined);
      }
    });

    it('returns data.redirect for a safe target reachable at level 1', async () => {
      const res = await firstFactor(t, {
        username: 'john',
        password: PASSWORD,
        targetURL: 'https://app.example.com/page?a=1',
        requestMethod: 'GET',
      });
      assert.deepEqual(res.body.data, { redirect: 'https://app.example.com/page?a=1' });
    });

    it('gives no redirect when the target needs a second factor', async () => {
      const res = await firstFactor(t, {
        username: 'john',
        password: PASSWORD,
        targetURL: 'https://secure.example.com/',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, {});
    });

    it('redirects to default_redirection_url when there is no target', async () => {
      const res = await firstFactor(t, { username: 'john', password: PASSWORD });
      assert.deepEqual(res.body.data, { redirect: 'https://www.example.com/' });
    });

    const unsafeTargets = [
      'https://evil.com/',
      '//evil.com/',
      '/\\evil.com',
      'https:\\\\evil.com',
      'javascript:alert(1)',
      'data:text/html,hi',
      'http://app.example.com/',
      'https://app.example.com@evil.com/',
      'https://evil.com\\.example.com/',
      'https://evilexample.com/',
      'https://app.example.com%2F@evil.com/',
      'https://%65vil.com/',
      ' https://app.example.com/',
      'https://app.example.com/\r\nSet-Cookie: x=1',
      'https://app.example.org/',
    ];
    for (const targetURL of unsafeTargets) {
      it(`never redirects to ${JSON.stringify(targetURL)}`, async () => {
        const res = await firstFactor(t, { username: 'john', password: PASSWORD, targetURL });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.data, {});
      });
    }

    it('refuses bodies of the wrong shape with 400', async () => {
      for (const body of [
        [],
        'text',
        42,
        { username: 1, password: 'x' },
        { username: 'john' },
        { username: 'john', password: 'x', keepMeLoggedIn: 'yes' },
        { username: 'a'.repeat(300), password: 'x' },
      ]) {
        const res = await firstFactor(t, body as Record<string, unknown>);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, 'KO');
      }
    });

    it('refuses malformed JSON with 400 and non-JSON bodies with 415', async () => {
      const bad = await api('post', '/api/firstfactor')
        .set('Origin', PORTAL)
        .set('Content-Type', 'application/json')
        .send('{"username":');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.status, 'KO');
      const form = await api('post', '/api/firstfactor')
        .set('Origin', PORTAL)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('username=john&password=x');
      assert.equal(form.status, 415);
    });

    it('refuses oversized bodies with 413', async () => {
      const res = await firstFactor(t, { username: 'john', password: 'x'.repeat(40_000) });
      assert.equal(res.status, 413);
      assert.equal(res.body.status, 'KO');
    });

    it('refuses a cross-origin request with 403', async () => {
      const res = await firstFactor(t, { username: 'john', password: PASSWORD }, { origin: 'https://evil.com' });
      assert.equal(res.status, 403);
      const fetchMeta = await api('post', '/api/firstfactor')
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ username: 'john', password: PASSWORD }));
      assert.equal(fetchMeta.status, 403);
    });

    it('refuses a host that is not a portal', async () => {
      const res = await firstFactor(t, { username: 'john', password: PASSWORD }, { host: 'app.example.com' });
      assert.equal(res.status, 400);
    });

    it('signs in on the second cookie domain through its own portal', async () => {
      const cookie = await signIn(t, 'harry', {}, 'login.example.org');
      assert.equal((await authRequest(t, 'https://app.example.org/', { cookie })).status, 200);
    });
  });

  describe('regulation', () => {
    it('bans after max_retries failures; the ban answers like any failure, even with the right password', async () => {
      const t2 = await startGatehouse({ sessions: 'redis', storage: 'postgres', users: { carol: { groups: [] } } });
      try {
        for (let i = 0; i < 3; i++)
          assert.equal((await firstFactor(t2, { username: 'carol', password: 'wrong' })).status, 401);
        const banned = await firstFactor(t2, { username: 'carol', password: PASSWORD });
        assert.equal(banned.status, 401);
        assert.deepEqual(banned.body, { status: 'KO', message: AUTH_FAILED });
      } finally {
        await t2.close();
      }
    });
  });

  describe('POST /api/logout and GET /logout', () => {
    it('ends the session', async () => {
      const cookie = await signIn(t, 'harry');
      const res = await api('post', '/api/logout').set('Origin', PORTAL).set('Cookie', cookie);
      assert.equal(res.status, 200);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie })).status, 401);
    });

    it('GET /logout redirects to a safe rd, else to the sign-in page, which says the user was signed out', async () => {
      const cookie = await signIn(t, 'harry');
      const safe = await api('get', '/logout?rd=https%3A%2F%2Fapp.example.com%2Fbye').set('Cookie', cookie);
      assert.equal(safe.status, 302);
      assert.equal(safe.headers.location, 'https://app.example.com/bye');
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie })).status, 401);
      const evil = await api('get', '/logout?rd=https%3A%2F%2Fevil.com%2F');
      assert.equal(evil.headers.location, '/?signed_out');
      assert.match((await api('get', '/?signed_out')).text, /You have been signed out\./);
    });
  });

  describe('pages', () => {
    it('GET / shows the sign-in form under a strict CSP', async () => {
      const res = await api('get', '/');
      assert.equal(res.status, 200);
      assert.match(res.text, /<input[^>]+name="username"/);
      assert.match(res.text, /<input[^>]+name="password"/);
      assert.match(res.text, /Remember me/);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    });

    it('GET / keeps a safe rd and drops an unsafe one', async () => {
      const safe = await api('get', '/?rd=https%3A%2F%2Fapp.example.com%2Fx&rm=GET');
      assert.match(safe.text, /value="https:\/\/app\.example\.com\/x"/);
      const evil = await api('get', '/?rd=https%3A%2F%2Fevil.com%2F%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E');
      assert.doesNotMatch(evil.text, /evil\.com/);
      assert.doesNotMatch(evil.text, /<script>alert/);
    });

    it('GET / for a signed-in user redirects to a reachable rd, else shows who is signed in', async () => {
      const cookie = await signIn(t, 'john');
      const go = await api('get', '/?rd=https%3A%2F%2Fapp.example.com%2Fx').set('Cookie', cookie);
      assert.equal(go.status, 302);
      assert.equal(go.headers.location, 'https://app.example.com/x');
      const page = await api('get', '/').set('Cookie', cookie);
      assert.equal(page.status, 200);
      assert.match(page.text, /John Doe/);
      assert.match(page.text, /Sign out/);
    });

    it('serves its own static assets', async () => {
      const css = await request(t.url).get('/static/gatehouse.css');
      assert.equal(css.status, 200);
      const traversal = await request(t.url).get('/static/../package.json');
      assert.ok(traversal.status === 403 || traversal.status === 404, String(traversal.status));
      assert.doesNotMatch(traversal.text, /"dependencies"/);
      assert.equal((await request(t.url).get('/static/nothing.js')).status, 404);
    });

    it('an unknown API path is a JSON 404, never a stack trace', async () => {
      const res = await api('get', '/api/nothing');
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { status: 'KO', message: 'Not found.' });
    });
  });
});

describe('users file changes reach live sessions', () => {
  it('removing or disabling a user ends their sessions at the next request', async () => {
    const t = await startGatehouse({
      sessions: 'redis',
      storage: 'embedded',
      config: { authentication_backend: { file: { watch: true } } },
    });
    try {
      const john = await signIn(t, 'john');
      const harry = await signIn(t, 'harry');
      await t.writeUsers({ john: { displayname: 'John Doe', groups: ['admins'], disabled: true } });
      const deadline = Date.now() + 10_000;
      while (t.gatehouse.adapters.users.get('harry') !== undefined && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: john })).status, 401);
      assert.equal((await authRequest(t, 'https://app.example.com/', { cookie: harry })).status, 401);
    } finally {
      await t.close();
    }
  });
});
