// Issue 11, item 5: signed identity for upstream apps. A pass to a target that wants it carries a JWT (ES256 by
// default) in `identity_token.header`; the public keys are at /.well-known/jwks.json; the keys live in PostgreSQL,
// shared by every replica, rotated with the old public key kept until its last token has expired; without a key in
// memory a token pass is a 503, never a pass without the token. Real Redis, real PostgreSQL.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import pg from 'pg';
import request from 'supertest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { pino } from 'pino';
import { PASSWORD, startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, forwardAuth, sessionAtLevel, signIn } from '../../helpers/flows.js';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { Relay } from '../../helpers/relay.js';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { CLOCK_SKEW_SECONDS, IdentityTokenKeys } from '../../../src/authz/identity-token-keys.js';
import { StorageUnavailableError } from '../../../src/observability/backend-errors.js';

const TOKEN_CONFIG = {
  session: {
    cookies: [
      {
        domain: 'example.com',
        authelia_url: 'https://auth.example.com',
        default_redirection_url: 'https://www.example.com',
        identity_token: true,
      },
      { domain: 'example.org', authelia_url: 'https://login.example.org' },
    ],
  },
  access_control: {
    default_policy: 'deny',
    rules: [
      { domain: 'public.example.com', policy: 'bypass' },
      { domain: 'secure.example.com', policy: 'two_factor' },
      { domain: 'app.example.com', resources: ['^/no-token([/?].*)?$'], policy: 'one_factor', identity_token: false },
      { domain: 'app.example.com', policy: 'one_factor' },
      { domain: 'app.example.org', policy: 'one_factor', identity_token: true },
      { domain: 'plain.example.org', policy: 'one_factor' },
    ],
  },
};

const silent = pino({ level: 'silent' });

async function jwksOf(t: TestGatehouse): Promise<JSONWebKeySet> {
  const res = await request(t.url).get('/.well-known/jwks.json');
  assert.equal(res.status, 200, res.text);
  return JSON.parse(res.text) as JSONWebKeySet;
}

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('identity tokens through the authz endpoints', () => {
  let redis: RedisTestTarget;
  let postgres: PostgresTestTarget;
  let t: TestGatehouse;
  let john: string;

  beforeAll(async () => {
    redis = await redisTestTarget();
    postgres = await postgresTestTarget();
    t = await startGatehouse({ sessions: 'redis', storage: 'postgres', redis, postgres, config: TOKEN_CONFIG });
    john = await signIn(t, 'john');
  });

  afterAll(async () => {
    await t?.close();
    await redis?.cleanup();
    await postgres?.cleanup();
  });

  it('GET /.well-known/jwks.json: the public keys with kid, alg and use, for any Host, cacheable for minutes', async () => {
    const res = await request(t.url).get('/.well-known/jwks.json').set('Host', 'gatehouse.internal:9091');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/jwk-set\+json/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    const { keys } = JSON.parse(res.text) as JSONWebKeySet;
    assert.equal(keys.length, 1);
    const [key] = keys;
    assert.equal(key!.alg, 'ES256');
    assert.equal(key!.use, 'sig');
    assert.equal(key!.kty, 'EC');
    assert.equal(key!.crv, 'P-256');
    assert.ok(typeof key!.kid === 'string' && key!.kid.length > 0);
    assert.equal('d' in key!, false, 'never a private part');
  });

  it('a signed-in pass carries a token the published keys verify: iss, aud = target origin, who, how, a minute', async () => {
    const res = await authRequest(t, 'https://app.example.com/some/page?x=1', { cookie: john });
    assert.equal(res.status, 200);
    const token = res.headers['remote-jwt'];
    assert.equal(typeof token, 'string');
    const { payload, protectedHeader } = await jwtVerify(token as string, createLocalJWKSet(await jwksOf(t)), {
      issuer: 'https://auth.example.com',
      audience: 'https://app.example.com',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(payload.sub, 'john');
    assert.equal(payload.name, 'John Doe');
    assert.equal(payload.email, 'john.doe@example.com');
    assert.deepEqual(payload.groups, ['admins', 'dev']);
    assert.deepEqual(payload.amr, ['pwd']);
    assert.equal(payload.exp! - payload.iat!, 60);
    assert.ok((payload.auth_time as number) <= payload.iat!);
    // The plain headers are still there for apps that read them.
    assert.equal(res.headers['remote-user'], 'john');
  });

  it('the same session and audience get the same token while it is fresh; another audience another one', async () => {
    const a = await authRequest(t, 'https://app.example.com/a', { cookie: john });
    const b = await authRequest(t, 'https://app.example.com/b', { cookie: john });
    assert.equal(a.headers['remote-jwt'], b.headers['remote-jwt']);
    const other = await authRequest(t, 'https://x.app.example.com/', { cookie: john });
    // x.app.example.com falls to the default policy (deny): no pass, no token.
    assert.equal(other.status, 403);
    assert.equal(other.headers['remote-jwt'], undefined);
    const traefik = await forwardAuth(t, 'https://app.example.com:8443/', { cookie: john });
    assert.equal(traefik.status, 200);
    assert.equal(decodeJwt(traefik.headers['remote-jwt'] as string).aud, 'https://app.example.com:8443');
  });

  it('two factors say so in amr, with the target of that rule as audience', async () => {
    const level2 = await sessionAtLevel(t, 'harry', 2);
    const res = await authRequest(t, 'https://secure.example.com/', { cookie: level2 });
    assert.equal(res.status, 200);
    const claims = decodeJwt(res.headers['remote-jwt'] as string);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa']);
    assert.equal(claims.aud, 'https://secure.example.com');
    assert.equal(claims.sub, 'harry');
  });

  it("a rule's identity_token overrides its domain: false keeps it out, true adds it on a domain without tokens", async () => {
    const off = await authRequest(t, 'https://app.example.com/no-token', { cookie: john });
    assert.equal(off.status, 200);
    assert.equal(off.headers['remote-user'], 'john');
    assert.equal(off.headers['remote-jwt'], undefined);
    const org = await signIn(t, 'john', {}, 'login.example.org');
    const on = await authRequest(t, 'https://app.example.org/', { cookie: org });
    assert.equal(on.status, 200);
    const claims = decodeJwt(on.headers['remote-jwt'] as string);
    assert.equal(claims.iss, 'https://login.example.org');
    assert.equal(claims.aud, 'https://app.example.org');
    const plain = await authRequest(t, 'https://plain.example.org/', { cookie: org });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['remote-jwt'], undefined);
  });

  it('an anonymous pass carries no token, whatever the client sent', async () => {
    const res = await authRequest(t, 'https://public.example.com/', { headers: { 'Remote-JWT': 'forged' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-jwt'], undefined);
    assert.equal(res.headers['remote-user'], undefined);
  });

  it('Basic credentials get a token too (amr pwd); wrong ones get none', async () => {
    const ok = await authRequest(t, 'https://app.example.com/', {
      headers: { 'Proxy-Authorization': basic('harry', PASSWORD) },
    });
    assert.equal(ok.status, 200);
    const claims = decodeJwt(ok.headers['remote-jwt'] as string);
    assert.equal(claims.sub, 'harry');
    assert.deepEqual(claims.amr, ['pwd']);
    const wrong = await authRequest(t, 'https://app.example.com/', {
      headers: { 'Proxy-Authorization': basic('harry', 'nope') },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['remote-jwt'], undefined);
  });

  it('a second replica on the same storage signs with the same key, and each verifies the other', async () => {
    const second = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      redis,
      postgres,
      config: TOKEN_CONFIG,
    });
    try {
      assert.deepEqual(await jwksOf(second), await jwksOf(t));
      const fromA = (await authRequest(t, 'https://app.example.com/', { cookie: john })).headers['remote-jwt'];
      const fromB = (await authRequest(second, 'https://app.example.com/', { cookie: john })).headers['remote-jwt'];
      assert.equal(decodeProtectedHeader(fromA as string).kid, decodeProtectedHeader(fromB as string).kid);
      const options = { issuer: 'https://auth.example.com', audience: 'https://app.example.com' };
      await jwtVerify(fromA as string, createLocalJWKSet(await jwksOf(second)), options);
      await jwtVerify(fromB as string, createLocalJWKSet(await jwksOf(t)), options);
    } finally {
      await second.close();
    }
  });

  it('storage that cannot answer when a replica starts: token passes are 503 (never without the token), others pass, then it recovers', async () => {
    // Another session holds the keys table locked: the new replica's key load waits (storage cannot answer it).
    const locker = new pg.Client({ connectionString: postgres.url });
    await locker.connect();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await locker.query('COMMIT');
      await locker.end();
    };
    let third: TestGatehouse | undefined;
    try {
      await locker.query(`SET search_path = ${postgres.config.schema}`);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE identity_token_keys IN ACCESS EXCLUSIVE MODE');
      third = await startGatehouse({ sessions: 'redis', storage: 'postgres', redis, postgres, config: TOKEN_CONFIG });
      const refused = await authRequest(third, 'https://app.example.com/', { cookie: john });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers['remote-user'], undefined);
      assert.equal(refused.headers['remote-jwt'], undefined);
      const traefik = await forwardAuth(third, 'https://app.example.com/', { cookie: john });
      assert.equal(traefik.status, 503);
      // A target that wants no token is not held up by the keys.
      const plain = await authRequest(third, 'https://app.example.com/no-token', { cookie: john });
      assert.equal(plain.status, 200);
      await release();
      const started = third;
      await eventually(
        async () => (await authRequest(started, 'https://app.example.com/', { cookie: john })).status === 200,
      );
    } finally {
      await release();
      await third?.close();
    }
  });
});

describe('without identity_token anywhere', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse();
  });
  afterAll(async () => t?.close());

  it('no JWKS is served and passes carry no token', async () => {
    const res = await request(t.url).get('/.well-known/jwks.json');
    assert.equal(res.status, 404);
    const john = await signIn(t, 'john');
    const pass = await authRequest(t, 'https://app.example.com/', { cookie: john });
    assert.equal(pass.status, 200);
    assert.equal(pass.headers['remote-jwt'], undefined);
  });
});

describe('the key ring in PostgreSQL: creation, rotation, retention', () => {
  let postgres: PostgresTestTarget;
  let storage: Storage;
  const HOUR = 3600_000;
  const T0 = Date.now();

  beforeAll(async () => {
    postgres = await postgresTestTarget();
    storage = await openStorage({ postgres: postgres.config, local: { path: 'memory://' } });
    await storage.migrate();
  });

  afterAll(async () => {
    await storage?.close();
    await postgres?.cleanup();
  });

  function ring(
    clock: { now: number },
    secret = 'a-test-secret-for-sealing-the-keys',
    algorithm: 'ES256' | 'EdDSA' = 'ES256',
  ) {
    return new IdentityTokenKeys(storage, {
      algorithm,
      rotationSeconds: 4 * 3600,
      tokenLifetimeSeconds: 60,
      secret,
      logger: silent,
      now: () => clock.now,
    });
  }

  it('replicas starting together make one key between them', async () => {
    const clock = { now: T0 };
    const replicas = [ring(clock), ring(clock), ring(clock)];
    await Promise.all(replicas.map((r) => r.refresh()));
    const kids = replicas.map((r) => r.signingKey().kid);
    assert.equal(new Set(kids).size, 1);
    for (const r of replicas)
      assert.deepEqual(
        r.jwks().keys.map((k) => k.kid),
        [kids[0]],
      );
  });

  it('a successor is published ahead of its use, signs from the end of the old period, and the old public key stays until its tokens expired', async () => {
    const clock = { now: T0 };
    const a = ring(clock);
    const b = ring(clock);
    await a.refresh();
    const first = a.signingKey().kid;
    // 4 h periods: the successor is stored one hour (a quarter) before the first key stops signing.
    clock.now = T0 + 3 * HOUR - 60_000;
    await a.refresh();
    assert.equal(a.jwks().keys.length, 1, 'no successor before the lead time');
    clock.now = T0 + 3 * HOUR + 60_000;
    await a.refresh();
    const published = a.jwks().keys.map((k) => k.kid);
    assert.equal(published.length, 2);
    assert.equal(a.signingKey().kid, first, 'the successor does not sign before its period');
    const successor = published.find((kid) => kid !== first)!;
    // Another replica sees the same pair, and signs with the same key.
    await b.refresh();
    assert.deepEqual(
      b.jwks().keys.map((k) => k.kid),
      published,
    );
    assert.equal(b.signingKey().kid, first);
    // The period ends: the successor signs, even before a refresh.
    clock.now = T0 + 4 * HOUR + 1_000;
    assert.equal(a.signingKey().kid, successor);
    assert.equal(b.signingKey().kid, successor);
    // The first public key stays published while a token it signed may be alive (lifetime + clock skew) ...
    clock.now = T0 + 4 * HOUR + (60 + CLOCK_SKEW_SECONDS) * 1000 - 1_000;
    await a.refresh();
    assert.deepEqual(
      a.jwks().keys.map((k) => k.kid),
      published,
    );
    // ... and not after.
    clock.now = T0 + 4 * HOUR + (60 + CLOCK_SKEW_SECONDS) * 1000 + 1_000;
    assert.deepEqual(
      a.jwks().keys.map((k) => k.kid),
      [successor],
    );
  });

  it('a key that does not unseal with the secret is published but never used: that replica makes its own', async () => {
    const clock = { now: T0 + 5 * HOUR };
    const good = ring(clock);
    await good.refresh();
    const goodKid = good.signingKey().kid;
    const other = ring(clock, 'another-secret-for-sealing-the-keys');
    await other.refresh();
    const otherKid = other.signingKey().kid;
    assert.notEqual(otherKid, goodKid);
    await good.refresh();
    assert.equal(good.signingKey().kid, goodKid);
    assert.ok(good.jwks().keys.some((k) => k.kid === otherKid));
  });

  it('EdDSA keys are Ed25519 OKP keys', async () => {
    const clock = { now: T0 + 6 * HOUR };
    const ed = ring(clock, 'a-test-secret-for-sealing-the-keys', 'EdDSA');
    await ed.refresh();
    const key = ed.jwks().keys.find((k) => k.kid === ed.signingKey().kid)!;
    assert.equal(key.kty, 'OKP');
    assert.equal(key.crv, 'Ed25519');
    assert.equal(key.alg, 'EdDSA');
  });

  it('storage unreachable from the first load: start() returns, and asking for a key fails closed', async () => {
    const relay = new Relay(postgres.config.address);
    await relay.start();
    const far = await openStorage({
      postgres: { ...postgres.config, address: { host: '127.0.0.1', port: relay.port }, timeout: 1 },
      local: { path: 'memory://' },
    });
    await relay.cut();
    const cut = new IdentityTokenKeys(far, {
      algorithm: 'ES256',
      rotationSeconds: 4 * 3600,
      tokenLifetimeSeconds: 60,
      secret: 's',
      logger: silent,
    });
    try {
      await cut.start(2_000);
      assert.throws(() => cut.signingKey(), StorageUnavailableError);
      assert.deepEqual(cut.jwks().keys, []);
    } finally {
      await cut.stop();
      await far.close();
    }
  });
});
