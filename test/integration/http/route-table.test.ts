// Issue 9 §3: the route table (src/http/routes.ts) is what the portal serves. Each row's declared guards answer
// before its handler, on a real Gatehouse: cross-site state changes refused, signed-in rows refused to an anonymous
// visitor, elevated rows refused to a plain session; rows under a switch that is off do not exist.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { PORTAL, signIn } from '../../helpers/flows.js';
import { PORTAL_ROUTES, type PortalRoute } from '../../../src/http/routes.js';
import { GUARD_MESSAGES } from '../../../src/web/guards.js';

const HOST = 'auth.example.com';
const ROWS = PORTAL_ROUTES.filter((r) => r.method !== 'ANY' && !r.anyHost);

function send(t: TestGatehouse, route: PortalRoute, headers: Record<string, string> = {}) {
  const path = route.path.replace(':id', '1');
  const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
  let req = request(t.url)[method](path).set('Host', HOST);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  return method === 'get' ? req : req.set('Content-Type', 'application/json').send('{}');
}

/** Two ways a browser says a request is cross-site: its Origin, or Fetch Metadata alone. */
const CROSS_SITE = (cookie: string): Array<Record<string, string>> => [
  { Origin: 'https://evil.example.net' },
  { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' },
];

const label = (route: PortalRoute) => `${route.method} ${route.path}`;

describe('every row is guarded as the table declares', () => {
  let t: TestGatehouse;
  let cookie: string;
  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'memory',
      storage: 'embedded',
      config: { webauthn: { enable_passkey_login: true } },
    });
    cookie = await signIn(t, 'john');
  });
  afterAll(async () => t.close());

  it('a cross-site request to any row with the origin guard is refused (403), signed in or not', async () => {
    for (const route of ROWS.filter((r) => r.origin)) {
      for (const headers of CROSS_SITE(cookie)) {
        const res = await send(t, route, headers);
        assert.equal(res.status, 403, label(route));
        assert.deepEqual(res.body, { status: 'KO', message: 'Cross-origin request refused.' }, label(route));
      }
    }
  });

  it('an anonymous visitor gets 401 "Sign in first." from every signed-in row', async () => {
    const rows = ROWS.filter((r) => r.level !== 'anonymous');
    assert.ok(rows.length >= 9);
    for (const route of rows) {
      const res = await send(t, route, { Origin: PORTAL });
      assert.equal(res.status, 401, label(route));
      assert.deepEqual(res.body, { status: 'KO', message: GUARD_MESSAGES.signInFirst }, label(route));
    }
  });

  it('a signed-in but not elevated session gets 403 from every elevated row', async () => {
    for (const route of ROWS.filter((r) => r.elevation !== 'none')) {
      const res = await send(t, route, { Origin: PORTAL, Cookie: cookie });
      const message = route.elevation === 'identity' ? GUARD_MESSAGES.notElevated : GUARD_MESSAGES.noRecentProof;
      assert.equal(res.status, 403, label(route));
      assert.deepEqual(res.body, { status: 'KO', message }, label(route));
    }
  });

  it('every row exists: none falls through to the 404 of the last row', async () => {
    for (const route of ROWS) {
      const res = await send(t, route, { Origin: PORTAL, Cookie: cookie });
      assert.notEqual(res.status, 404, label(route));
    }
  });
});

describe('rows under a switch that is off do not exist', () => {
  for (const [name, webauthn, off] of [
    ['WebAuthn turned off', { disable: true }, ['webauthn', 'passkeys']],
    ['passkey sign-in off', { enable_passkey_login: false }, ['passkeys']],
  ] as const) {
    describe(name, () => {
      let t: TestGatehouse;
      let cookie: string;
      beforeAll(async () => {
        t = await startGatehouse({ sessions: 'memory', storage: 'embedded', config: { webauthn } });
        cookie = await signIn(t, 'john');
      });
      afterAll(async () => t.close());

      it('answers 404 "Not found." for each of its rows, after the origin guard', async () => {
        const rows = ROWS.filter((r) => (off as readonly string[]).includes(r.when));
        assert.ok(rows.length >= 2);
        for (const route of rows) {
          const res = await send(t, route, { Origin: PORTAL, Cookie: cookie });
          assert.equal(res.status, 404, label(route));
          assert.deepEqual(res.body, { status: 'KO', message: 'Not found.' }, label(route));
          if (route.method !== 'GET') {
            const crossSite = await send(t, route, { Origin: 'https://evil.example.net', Cookie: cookie });
            assert.equal(crossSite.status, 403, label(route));
          }
        }
      });
    });
  }
});
