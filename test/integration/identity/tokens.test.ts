// SPEC §6 `/api/identity/*`: the identity-verification token against real storage (PostgreSQL, with a second
// Storage on the same database standing for another replica, and embedded PGlite). Single use, bound to the user
// and the action, expiring, and refused when tampered with or signed any other way.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { IdentityVerifier } from '../../../src/identity/tokens.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';

const SECRET = 'a-test-jwt-secret-that-is-long-enough-for-hs256';
const LIFETIME = 300;
const IP = '203.0.113.7';
const key = new TextEncoder().encode(SECRET);

/** A token like Gatehouse's, with any part changed. */
async function craft(
  overrides: {
    alg?: string;
    typ?: string | null;
    iss?: string;
    aud?: string;
    sub?: string;
    action?: string;
    jti?: string;
    exp?: number;
    secret?: string;
  } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header: { alg: string; typ?: string } = { alg: overrides.alg ?? 'HS256' };
  if (overrides.typ !== null) header.typ = overrides.typ ?? 'JWT';
  return new SignJWT({ action: overrides.action ?? 'register_webauthn' })
    .setProtectedHeader(header)
    .setIssuer(overrides.iss ?? 'gatehouse')
    .setAudience(overrides.aud ?? 'gatehouse:identity-verification')
    .setSubject(overrides.sub ?? 'john')
    .setJti(overrides.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + LIFETIME)
    .sign(overrides.secret ? new TextEncoder().encode(overrides.secret) : key);
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));
const decodeJson = (segment: string) =>
  JSON.parse(new TextDecoder().decode(base64url.decode(segment))) as Record<string, unknown>;

const backends: Array<{
  name: string;
  open(): Promise<{ storage: Storage; sibling: Storage; cleanup(): Promise<void> }>;
}> = [
  {
    name: 'PostgreSQL',
    async open() {
      const target: PostgresTestTarget = await postgresTestTarget();
      const config = { postgres: target.config, local: { path: 'unused' } };
      const [storage, sibling] = await Promise.all([openStorage(config), openStorage(config)]);
      await storage.migrate();
      return {
        storage,
        sibling,
        async cleanup() {
          await Promise.all([storage.close(), sibling.close()]);
          await target.cleanup();
        },
      };
    },
  },
  {
    name: 'embedded PGlite',
    async open() {
      const storage = await openStorage({ local: { path: 'memory://' } });
      await storage.migrate();
      return { storage, sibling: storage, cleanup: () => storage.close() };
    },
  },
];

for (const backend of backends) {
  describe(`identity verification tokens (${backend.name})`, () => {
    let storage: Storage;
    let sibling: Storage;
    let cleanup: () => Promise<void>;
    let verifier: IdentityVerifier;
    beforeAll(async () => {
      ({ storage, sibling, cleanup } = await backend.open());
      verifier = new IdentityVerifier(storage, { secret: SECRET, lifetimeSeconds: LIFETIME });
    });
    afterAll(async () => cleanup());

    const issue = (username = 'john') => verifier.issue({ username, action: 'register_webauthn', ip: IP });
    const redeem = (token: string, username = 'john', action = 'register_webauthn', v = verifier) =>
      v.redeem({ token, username, action, ip: IP });

    it('issues an HS256 JWT bound to the user and the action, expiring after token_lifetime', async () => {
      const before = Date.now();
      const { token, jti, expiresAt } = await issue();
      const [header, payload, signature] = token.split('.');
      assert.deepEqual(decodeJson(header!), { alg: 'HS256', typ: 'JWT' });
      const claims = decodeJson(payload!);
      assert.equal(claims.sub, 'john');
      assert.equal(claims.action, 'register_webauthn');
      assert.equal(claims.jti, jti);
      assert.equal(claims.iss, 'gatehouse');
      assert.equal(claims.aud, 'gatehouse:identity-verification');
      assert.equal(claims.exp, (claims.iat as number) + LIFETIME);
      assert.ok(Math.abs(expiresAt.getTime() - (before + LIFETIME * 1000)) < 2_000);
      assert.match(jti, /^[0-9a-f-]{36}$/);
      assert.ok(signature && signature.length >= 43);
    });

    it('redeems once: the second use is refused', async () => {
      const { token } = await issue();
      assert.equal(await redeem(token), 'ok');
      assert.equal(await redeem(token), 'used');
    });

    it('is redeemed by exactly one of two replicas racing for it', async () => {
      const other = new IdentityVerifier(sibling, { secret: SECRET, lifetimeSeconds: LIFETIME });
      for (let round = 0; round < 5; round += 1) {
        const { token } = await issue();
        const results = await Promise.all([
          redeem(token),
          redeem(token, 'john', 'register_webauthn', other),
          redeem(token),
          redeem(token, 'john', 'register_webauthn', other),
        ]);
        assert.deepEqual(results.filter((r) => r === 'ok').length, 1, JSON.stringify(results));
        assert.ok(results.every((r) => r === 'ok' || r === 'used'));
      }
    });

    it('check() tells what redeeming would meet (ok, used, wrong user, invalid) without spending the token', async () => {
      const check = (token: string, username = 'john') =>
        verifier.check({ token, username, action: 'register_webauthn' });
      const { token } = await issue();
      assert.equal(await check(token), 'ok');
      assert.equal(await check(token), 'ok', 'checking twice spends nothing');
      assert.equal(await check(token, 'harry'), 'wrong_user');
      assert.equal(await check(`${token}x`), 'invalid');
      assert.equal(await redeem(token), 'ok');
      assert.equal(await check(token), 'used');
      assert.equal(
        await check(await craft()),
        'used',
        'a genuinely signed token storage never recorded cannot be used',
      );
    });

    it("refuses another user's token without spending it", async () => {
      const { token } = await issue('harry');
      assert.equal(await redeem(token, 'john'), 'wrong_user');
      assert.equal(await redeem(token, 'harry'), 'ok');
    });

    it('refuses a token for another action', async () => {
      const { token } = await issue();
      assert.equal(await redeem(token, 'john', 'reset_password'), 'invalid');
      assert.equal(await redeem(token), 'ok', 'still good for its own action');
    });

    it('refuses an expired token (clock injected)', async () => {
      let now = Date.now();
      const clocked = new IdentityVerifier(storage, { secret: SECRET, lifetimeSeconds: LIFETIME, now: () => now });
      const { token } = await clocked.issue({ username: 'john', action: 'register_webauthn', ip: IP });
      now += (LIFETIME - 1) * 1000;
      const { token: second } = await clocked.issue({ username: 'john', action: 'register_webauthn', ip: IP });
      now += 2_000;
      assert.equal(await clocked.redeem({ token, username: 'john', action: 'register_webauthn', ip: IP }), 'expired');
      assert.equal(
        await clocked.redeem({ token: second, username: 'john', action: 'register_webauthn', ip: IP }),
        'ok',
      );
    });

    it('refuses a genuine-looking token whose exp has passed (signed with the same secret)', async () => {
      const past = Math.floor(Date.now() / 1000) - 10;
      assert.equal(await redeem(await craft({ exp: past })), 'expired');
    });

    it('refuses a genuinely signed token whose ID storage never recorded', async () => {
      assert.equal(await redeem(await craft()), 'used');
    });

    describe('refuses tampered and foreign tokens as invalid', () => {
      const cases: Array<{ name: string; token: () => Promise<string> }> = [
        {
          name: 'payload changed to another user, signature kept',
          async token() {
            const [h, p, s] = (await issue('harry')).token.split('.');
            return [h, encodeJson({ ...decodeJson(p!), sub: 'john' }), s].join('.');
          },
        },
        {
          name: 'signature altered',
          async token() {
            const [h, p, s] = (await issue()).token.split('.');
            const flipped = s!.slice(0, 10) + (s![10] === 'A' ? 'B' : 'A') + s!.slice(11);
            return [h, p, flipped].join('.');
          },
        },
        {
          name: 'signature removed',
          async token() {
            const [h, p] = (await issue()).token.split('.');
            return `${h}.${p}.`;
          },
        },
        {
          name: 'alg "none"',
          async token() {
            const [, p] = (await issue()).token.split('.');
            return `${encodeJson({ alg: 'none', typ: 'JWT' })}.${p}.`;
          },
        },
        {
          name: 'alg "None" with the original signature',
          async token() {
            const [, p, s] = (await issue()).token.split('.');
            return `${encodeJson({ alg: 'None', typ: 'JWT' })}.${p}.${s}`;
          },
        },
        { name: 'HS512 with the right secret', token: () => craft({ alg: 'HS512' }) },
        {
          name: 'signed with another secret',
          token: () => craft({ secret: 'another-secret-that-is-long-enough-for-hs256' }),
        },
        { name: 'another issuer', token: () => craft({ iss: 'authelia' }) },
        { name: 'another audience', token: () => craft({ aud: 'gatehouse:something-else' }) },
        { name: 'no typ header', token: () => craft({ typ: null }) },
        { name: 'another action claim', token: () => craft({ action: 'reset_password' }) },
      ];
      for (const { name, token } of cases) {
        it(name, async () => assert.equal(await redeem(await token()), 'invalid'));
      }

      it('a tampered token does not spend the genuine one', async () => {
        const { token } = await issue();
        const [h, p, s] = token.split('.');
        assert.equal(
          await redeem(`${h}.${p}.${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`),
          'invalid',
        );
        assert.equal(await redeem(token), 'ok');
      });
    });

    it('refuses malformed strings as invalid, never throwing', async () => {
      const junk = [
        '',
        'abc',
        'a.b.c',
        '..',
        '...',
        'x'.repeat(5_000),
        'eyJ.eyJ.x',
        '\u0000.\u0000.\u0000',
        'a.b.c.d.e',
        `${encodeJson({ alg: 'HS256' })}.bm90IGpzb24.x`,
      ];
      for (const token of junk) assert.equal(await redeem(token), 'invalid', JSON.stringify(token.slice(0, 40)));
    });
  });
}
