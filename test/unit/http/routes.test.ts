// Issue 9 §3: every route of the portal, its method and its guards, in one table (src/http/routes.ts). The table
// is printed here in full, so that adding a route or changing a guard shows in this file's diff; the rules below
// hold for every row, including rows added later.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { describeRoutes, PORTAL_ROUTES } from '../../../src/http/routes.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'DELETE', 'PATCH', 'ANY']);

describe('the route table as it reads', () => {
  it('lists every route with its guards', () => {
    const printed = describeRoutes();
    // Shown when the test runs with --verbose: the table an operator or reviewer reads.
    assert.deepEqual(
      printed.map((line) => line.replace(/ +/g, ' ')),
      [
        'GET /api/health - anonymous none [any host]',
        'GET / - anonymous none',
        'GET /logout - anonymous none',
        'GET /settings - anonymous none',
        'GET /webauthn/register - anonymous none',
        'GET /identity/confirm - anonymous none',
        'GET /api/state - anonymous none',
        'POST /api/firstfactor origin anonymous none',
        'POST /api/logout origin anonymous none',
        'POST /api/identity/start origin 1FA none',
        'POST /api/identity/finish origin 1FA none',
        'POST /api/webauthn/registration/options origin 1FA identity [webauthn]',
        'POST /api/webauthn/registration origin 1FA identity [webauthn]',
        'POST /api/webauthn/authentication/options origin 1FA none [webauthn]',
        'POST /api/webauthn/authentication origin 1FA none [webauthn]',
        'POST /api/webauthn/passkey/options origin anonymous none [passkeys]',
        'POST /api/webauthn/passkey origin anonymous none [passkeys]',
        'GET /api/webauthn/credentials - 1FA none [webauthn]',
        'PUT /api/webauthn/credentials/:id origin 1FA identity-or-2fa [webauthn]',
        'DELETE /api/webauthn/credentials/:id origin 1FA identity-or-2fa [webauthn]',
        'GET /.well-known/jwks.json - anonymous none [any host]',
        'GET /api/recovery-codes - 1FA none [webauthn]',
        'POST /api/recovery-codes origin 1FA identity [webauthn]',
        'POST /api/recovery-codes/use origin 1FA none [webauthn]',
        'GET /settings/sessions - anonymous none',
        'GET /api/sessions - 1FA none',
        'POST /api/sessions/end origin 1FA none',
        'POST /api/sessions/end-others origin 1FA none',
        'ANY * origin anonymous none',
      ],
    );
  });
});

describe('rules every row keeps', () => {
  it('every state-changing route has the origin guard (SPEC §6: no cross-site request changes anything)', () => {
    const unguarded = PORTAL_ROUTES.filter((r) => STATE_CHANGING.has(r.method) && !r.origin);
    assert.deepEqual(unguarded, []);
  });

  it('every route under /api/webauthn/ needs a signed-in session, except the passkey sign-in ones', () => {
    for (const route of PORTAL_ROUTES.filter((r) => r.path.startsWith('/api/webauthn/'))) {
      const passkeySignIn = route.path.startsWith('/api/webauthn/passkey');
      assert.equal(route.level, passkeySignIn ? 'anonymous' : '1FA', `${route.method} ${route.path}`);
      assert.notEqual(route.when, 'always', `${route.method} ${route.path} exists only while WebAuthn is on`);
    }
  });

  it('registering a key needs the emailed identity check; renaming and deleting need it or a recent second factor', () => {
    const elevation = (method: string, path: string) =>
      PORTAL_ROUTES.find((r) => r.method === method && r.path === path)?.elevation;
    assert.equal(elevation('POST', '/api/webauthn/registration/options'), 'identity');
    assert.equal(elevation('POST', '/api/webauthn/registration'), 'identity');
    assert.equal(elevation('PUT', '/api/webauthn/credentials/:id'), 'identity-or-2fa');
    assert.equal(elevation('DELETE', '/api/webauthn/credentials/:id'), 'identity-or-2fa');
    // Recovery codes are a second factor like a key: making them needs the same emailed identity check.
    assert.equal(elevation('POST', '/api/recovery-codes'), 'identity');
  });

  it('an elevation guard always comes with a signed-in level', () => {
    const loose = PORTAL_ROUTES.filter((r) => r.elevation !== 'none' && r.level === 'anonymous');
    assert.deepEqual(loose, []);
  });

  it('no route appears twice', () => {
    const keys = PORTAL_ROUTES.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(
      keys.filter((key, i) => keys.indexOf(key) !== i),
      [],
    );
  });

  it('only the health check and the public keys answer for any Host; the fallback is the one last row', () => {
    // The identity tokens' keys too: an upstream app may fetch them from Gatehouse directly on the internal network.
    assert.deepEqual(
      PORTAL_ROUTES.filter((r) => r.anyHost).map((r) => r.path),
      ['/api/health', '/.well-known/jwks.json'],
    );
    assert.deepEqual(
      PORTAL_ROUTES.filter((r) => r.method === 'ANY').map((r) => r.path),
      ['*'],
    );
    assert.equal(PORTAL_ROUTES.at(-1)?.method, 'ANY');
  });

  it('pages are pages and the JSON API is JSON (a refusal is rendered accordingly)', () => {
    for (const route of PORTAL_ROUTES.filter((r) => r.method !== 'ANY')) {
      assert.equal(route.kind, route.path.startsWith('/api/') ? 'api' : 'page', route.path);
    }
  });
});
