// Issue 11, item 5: the signed identity token of an authz pass: its claims, the RFC 8176 `amr` values, which passes
// want one, and the per (session, audience) cache that keeps signing off the hot path.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import {
  amrOf,
  authTimeOf,
  DEFAULT_MAX_CACHED_TOKENS,
  identityClaims,
  IdentityTokens,
  identityTokenSettings,
  identityTokensWanted,
  issuerOf,
  type Authentication,
  type IdentityTokenSettings,
} from '../../../src/authz/identity-token.js';
import type { SigningKey } from '../../../src/authz/identity-token-keys.js';
import type { CookieSettings } from '../../../src/config/cookies.js';
import { configSchema } from '../../../src/config/schema.js';
import type { UserDetails } from '../../../src/users/provider.js';

const JOHN: UserDetails = {
  username: 'john',
  displayName: 'John Doe',
  emails: ['john.doe@example.com', 'jd@example.org'],
  groups: ['admins', 'dev'],
  disabled: false,
};

const COOKIE = { domain: 'example.com', portalUrl: new URL('https://auth.example.com/') } as CookieSettings;
const OTHER_COOKIE = { domain: 'example.org', portalUrl: new URL('https://login.example.org/') } as CookieSettings;

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function session(
  data: Partial<Extract<Authentication, { kind: 'session' }>['data']> = {},
  id = 'sid-1',
): Authentication {
  return { kind: 'session', id, data: { level: 1, createdAt: T0 - 30_000, ...data } };
}

const SETTINGS: IdentityTokenSettings = {
  header: 'Remote-JWT',
  lifetimeSeconds: 60,
  domains: new Set(['example.com']),
  rules: [undefined, false, true],
};

async function es256Key(kid = 'k1'): Promise<{ key: SigningKey; jwks: ReturnType<typeof createLocalJWKSet> }> {
  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { key: { kid, alg: 'ES256', key: pair.privateKey }, jwks: createLocalJWKSet({ keys: [jwk] }) };
}

describe('amr (RFC 8176), as the session proves it', () => {
  it('a password sign-in is pwd; password then security key is pwd, hwk, mfa', () => {
    assert.deepEqual(amrOf(session(), 1), ['pwd']);
    assert.deepEqual(amrOf(session({ level: 2, firstFactor: 'password' }), 2), ['pwd', 'hwk', 'mfa']);
  });

  it('a passkey alone is hwk; a passkey at level 2 is hwk, mfa (never a password it cannot prove)', () => {
    assert.deepEqual(amrOf(session({ firstFactor: 'passkey' }), 1), ['hwk']);
    assert.deepEqual(amrOf(session({ level: 2, firstFactor: 'passkey' }), 2), ['hwk', 'mfa']);
  });

  it('Basic credentials are pwd', () => {
    assert.deepEqual(amrOf({ kind: 'basic' }, 1), ['pwd']);
  });
});

describe('claims', () => {
  it('iss is the portal URL, aud the target origin, exp one lifetime after iat, in seconds', () => {
    const claims = identityClaims(JOHN, session(), 1, 'https://auth.example.com', 'https://app.example.com', T0, 60);
    assert.deepEqual(claims, {
      iss: 'https://auth.example.com',
      aud: 'https://app.example.com',
      sub: 'john',
      email: 'john.doe@example.com',
      name: 'John Doe',
      groups: ['admins', 'dev'],
      amr: ['pwd'],
      auth_time: Math.floor((T0 - 30_000) / 1000),
      iat: T0 / 1000,
      exp: T0 / 1000 + 60,
    });
  });

  it('auth_time is the later of the sign-in step and the last second factor; Basic credentials were checked now', () => {
    assert.equal(authTimeOf(session({ createdAt: T0 - 600_000, secondFactorAt: T0 - 5_000 }), T0), (T0 - 5_000) / 1000);
    assert.equal(authTimeOf({ kind: 'basic' }, T0 + 1_500), Math.floor((T0 + 1_500) / 1000));
  });

  it('a user without an email has no email claim; the issuer has no trailing slash', () => {
    const claims = identityClaims({ ...JOHN, emails: [] }, session(), 1, 'x', 'y', T0, 60);
    assert.equal('email' in claims, false);
    assert.equal(issuerOf(new URL('https://auth.example.com/')), 'https://auth.example.com');
    assert.equal(issuerOf(new URL('https://example.com/auth/')), 'https://example.com/auth');
  });
});

describe('which passes carry a token', () => {
  const tokens = new IdentityTokens(SETTINGS, () => {
    throw new Error('not signing here');
  });

  it("a rule's own identity_token wins; without one, the cookie domain decides; the default policy follows the domain", () => {
    assert.equal(tokens.wanted(COOKIE, 1), true);
    assert.equal(tokens.wanted(COOKIE, 2), false);
    assert.equal(tokens.wanted(OTHER_COOKIE, 1), false);
    assert.equal(tokens.wanted(OTHER_COOKIE, 3), true);
    assert.equal(tokens.wanted(COOKIE, 0), true);
    assert.equal(tokens.wanted(OTHER_COOKIE, 0), false);
  });

  it('read from the configuration: off unless a domain or a rule asks', () => {
    const base = {
      session: { cookies: [{ domain: 'example.com', authelia_url: 'https://auth.example.com' }] },
      access_control: { rules: [{ domain: 'a.example.com', policy: 'one_factor' }] },
    };
    const off = identityTokenSettings(configSchema.parse(base));
    assert.equal(identityTokensWanted(off), false);
    assert.equal(off.header, 'Remote-JWT');
    assert.equal(off.lifetimeSeconds, 60);
    const byRule = identityTokenSettings(
      configSchema.parse({
        ...base,
        access_control: { rules: [{ domain: 'a.example.com', policy: 'one_factor', identity_token: true }] },
      }),
    );
    assert.equal(identityTokensWanted(byRule), true);
    assert.deepEqual(byRule.rules, [true]);
  });

  it('the configuration refuses a lifetime outside 30s..10m, a rotation under 1h and a header that is no token', () => {
    const problems = configSchema.safeParse({
      identity_token: { lifetime: '5s', key_rotation: '10m', header: 'Remote JWT' },
    });
    assert.equal(problems.success, false);
    const paths = problems.error!.issues.map((issue) => issue.path.join('.')).sort();
    assert.deepEqual(paths, ['identity_token.header', 'identity_token.key_rotation', 'identity_token.lifetime']);
    // Nor a header the answer already carries (the identity headers would be overwritten or doubled).
    assert.equal(configSchema.safeParse({ identity_token: { header: 'remote-user' } }).success, false);
    assert.equal(configSchema.safeParse({ identity_token: { header: 'X-Gatehouse-Identity' } }).success, true);
  });
});

describe('signing and the cache', () => {
  it('signs with the key it is handed: kid and alg in the header, the claims verify', async () => {
    const { key, jwks } = await es256Key('kid-a');
    const tokens = new IdentityTokens(
      SETTINGS,
      () => key,
      () => T0,
    );
    const token = await tokens.token(JOHN, session(), 1, COOKIE, 'https://app.example.com');
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'ES256', kid: 'kid-a', typ: 'JWT' });
    const { payload } = await jwtVerify(token, jwks, {
      issuer: 'https://auth.example.com',
      audience: 'https://app.example.com',
      currentDate: new Date(T0),
    });
    assert.equal(payload.sub, 'john');
    assert.deepEqual(payload.amr, ['pwd']);
  });

  it('one token per session and audience, reused until 15 s before it expires, then a new one', async () => {
    const { key } = await es256Key();
    let now = T0;
    let signed = 0;
    const tokens = new IdentityTokens(
      SETTINGS,
      () => {
        signed++;
        return key;
      },
      () => now,
    );
    const first = await tokens.token(JOHN, session(), 1, COOKIE, 'https://app.example.com');
    now = T0 + 44_000;
    assert.equal(await tokens.token(JOHN, session(), 1, COOKIE, 'https://app.example.com'), first);
    assert.equal(signed, 1);
    // Another audience is another token.
    const other = await tokens.token(JOHN, session(), 1, COOKIE, 'https://secure.example.com');
    assert.notEqual(other, first);
    assert.equal(decodeJwt(other).aud, 'https://secure.example.com');
    now = T0 + 45_000;
    const renewed = await tokens.token(JOHN, session(), 1, COOKIE, 'https://app.example.com');
    assert.notEqual(renewed, first);
    assert.equal(decodeJwt(renewed).exp, (T0 + 45_000) / 1000 + 60);
    assert.equal(signed, 3);
  });

  it('a changed session (level, second factor) or user record is never answered from the cache', async () => {
    const { key } = await es256Key();
    const tokens = new IdentityTokens(
      SETTINGS,
      () => key,
      () => T0,
    );
    const aud = 'https://app.example.com';
    const first = await tokens.token(JOHN, session(), 1, COOKIE, aud);
    const stepUp = await tokens.token(JOHN, session({ level: 2, secondFactorAt: T0 - 1_000 }), 2, COOKIE, aud);
    assert.notEqual(stepUp, first);
    assert.deepEqual(decodeJwt(stepUp).amr, ['pwd', 'hwk', 'mfa']);
    const fresher = await tokens.token(JOHN, session({ level: 2, secondFactorAt: T0 }), 2, COOKIE, aud);
    assert.notEqual(fresher, stepUp);
    const reloaded = await tokens.token(
      { ...JOHN, groups: ['dev'] },
      session({ level: 2, secondFactorAt: T0 }),
      2,
      COOKIE,
      aud,
    );
    assert.deepEqual(decodeJwt(reloaded).groups, ['dev']);
    // Another session of the same user has its own token.
    const elsewhere = await tokens.token(JOHN, session({}, 'sid-2'), 1, COOKIE, aud);
    assert.notEqual(elsewhere, first);
  });

  it('the cache is bounded: the oldest entry goes first', async () => {
    const { key } = await es256Key();
    const tokens = new IdentityTokens(
      { ...SETTINGS, maxEntries: 3 },
      () => key,
      () => T0,
    );
    for (let i = 0; i < 5; i++) await tokens.token(JOHN, session({}, `sid-${i}`), 1, COOKIE, 'https://app.example.com');
    assert.equal(tokens.size, 3);
    assert.equal(DEFAULT_MAX_CACHED_TOKENS, 10_000);
  });

  it('without a key it throws (the handler answers 503), and nothing is cached', async () => {
    const tokens = new IdentityTokens(SETTINGS, () => {
      throw new Error('no key');
    });
    await assert.rejects(tokens.token(JOHN, session(), 1, COOKIE, 'https://app.example.com'), /no key/);
    assert.equal(tokens.size, 0);
  });
});
