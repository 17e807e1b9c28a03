// Issue 11, item 5, end to end: real nginx with the shipped example site and its identity token snippet turned on,
// and real Caddy with the shipped Caddyfile and Remote-JWT added to copy_headers as the operators' guide says, each in
// front of Gatehouse (Redis sessions, PostgreSQL storage, identity_token on for example.com) and the shipped example
// upstream (examples/jwt-upstream/server.mjs, run as its own process), which trusts only a token it can verify
// against Gatehouse's /.well-known/jwks.json.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, decodeProtectedHeader } from 'jose';
import { pino } from 'pino';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, sessionAtLevel, signIn } from '../../helpers/flows.js';
import { freePort } from '../../helpers/process.js';
import { packageRoot } from '../../../src/paths.js';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { IdentityTokenKeys } from '../../../src/authz/identity-token-keys.js';
import { IdentityTokens, identityTokenSettings } from '../../../src/authz/identity-token.js';
import { send, startCaddy, startNginx, type ProxyProcess } from '../helpers/proxies.js';
import { type Backends, substitute } from '../helpers/proxy-configs.js';
import { PROXY_ACCESS_CONTROL } from '../helpers/proxy-scenarios.js';

const APP = 'https://app.example.com';
const SECURE = 'https://secure.example.com';
const SNIPPET = `${join(packageRoot, 'nginx')}/gatehouse-identity-token.conf;`;

interface AppAnswer {
  status: number;
  body: { user?: string; amr?: string[]; groups?: string[]; error?: string; reason?: string };
}

async function startExampleUpstream(gatehouseUrl: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(packageRoot, 'examples', 'jwt-upstream', 'server.mjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      JWKS_URL: `${gatehouseUrl}/.well-known/jwks.json`,
      ISSUER: 'https://auth.example.com',
      AUDIENCE: APP,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!output.includes('listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`example upstream did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A request straight to the example upstream (as if something bypassed the proxy), with the given token. */
async function direct(port: number, token: string): Promise<AppAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/direct`, { headers: { 'Remote-JWT': token } });
  return { status: res.status, body: (await res.json()) as AppAnswer['body'] };
}

function answerOf(reply: { status: number; body: string }): AppAnswer {
  return { status: reply.status, body: JSON.parse(reply.body) as AppAnswer['body'] };
}

/** Each proxy as the operators' guide sets it up for identity tokens. */
const PROXIES: { name: string; start(backends: Backends): Promise<ProxyProcess> }[] = [
  {
    name: 'nginx',
    start: (backends) =>
      startNginx(backends, (site) =>
        substitute(site, [{ find: `# include ${SNIPPET}`, replace: `include ${SNIPPET}` }], 'nginx/example-site.conf'),
      ),
  },
  {
    name: 'caddy',
    start: (backends) =>
      startCaddy(backends, (caddyfile) =>
        substitute(
          caddyfile,
          [
            {
              find: 'copy_headers Remote-User Remote-Groups Remote-Name Remote-Email',
              replace: 'copy_headers Remote-User Remote-Groups Remote-Name Remote-Email Remote-JWT',
            },
          ],
          'caddy/Caddyfile',
        ),
      ),
  },
];

describe.each(PROXIES)('$name passes the signed identity token, the example upstream verifies it', (proxy) => {
  let t: TestGatehouse;
  let upstream: { port: number; stop(): Promise<void> };
  let edge: ProxyProcess;
  let storage: Storage;
  let john: string;

  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      config: {
        session: {
          cookies: [{ domain: 'example.com', authelia_url: 'https://auth.example.com', identity_token: true }],
        },
        access_control: PROXY_ACCESS_CONTROL,
      },
    });
    upstream = await startExampleUpstream(t.url);
    edge = await proxy.start({ gatehousePort: Number(new URL(t.url).port), upstreamPort: upstream.port });
    storage = await openStorage(t.loaded.config.storage);
    john = await signIn(t, 'john');
  });

  afterAll(async () => {
    await edge?.stop();
    await upstream?.stop();
    await storage?.close();
    await t?.close();
  });

  it('a signed-in request reaches the app with a token it accepts: who and how, from the token', async () => {
    const answer = answerOf(await send(edge, `${APP}/page`, { headers: { Cookie: john } }));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.user, 'john');
    assert.deepEqual(answer.body.amr, ['pwd']);
    assert.deepEqual(answer.body.groups, ['admins', 'dev']);
  });

  it("a token the client sends is replaced by Gatehouse's, and dropped where nobody is signed in", async () => {
    const attacker = await generateKeyPair('ES256');
    const jwks = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const forged = await new SignJWT({ sub: 'admin', groups: ['admins'] })
      .setProtectedHeader({ alg: 'ES256', kid: jwks.keys[0]!.kid, typ: 'JWT' })
      .setIssuer('https://auth.example.com')
      .setAudience(APP)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(attacker.privateKey);
    const signedIn = answerOf(await send(edge, `${APP}/page`, { headers: { Cookie: john, 'Remote-JWT': forged } }));
    assert.equal(signedIn.status, 200);
    assert.equal(signedIn.body.user, 'john');
    // A public path (bypass): Gatehouse names nobody. nginx then sends no Remote-JWT at all. Caddy before 2.9 (Debian
    // ships 2.6) copies its placeholder's text for each header not sent, and the shipped Caddyfile then removes every
    // Remote-* header, Remote-JWT too: the app sees none either way.
    const anonymous = answerOf(await send(edge, `${APP}/public/x`, { headers: { 'Remote-JWT': forged } }));
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.user, undefined);
    assert.equal(anonymous.body.error, 'no identity token');
  });

  it('a token for another app (audience) is refused by this one', async () => {
    // secure.example.com is served by the same example upstream, which is app.example.com's: the token Gatehouse
    // made for secure.example.com is not for it.
    const level2 = await sessionAtLevel(t, 'john', 2);
    const answer = answerOf(await send(edge, `${SECURE}/`, { headers: { Cookie: level2 } }));
    assert.equal(answer.status, 401);
    assert.equal(answer.body.reason, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  // The example upstream's own checks, asked directly: once is enough.
  if (proxy.name !== 'nginx') return;

  it('the example upstream refuses a forged token, an expired one and one for another audience', async () => {
    const pass = await authRequest(t, `${APP}/`, { cookie: john });
    const real = pass.headers['remote-jwt'] as string;
    assert.equal((await direct(upstream.port, real)).status, 200);

    const attacker = await generateKeyPair('ES256');
    const kid = decodeProtectedHeader(real).kid!;
    const forged = await new SignJWT({ sub: 'john' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer('https://auth.example.com')
      .setAudience(APP)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(attacker.privateKey);
    const forgedAnswer = await direct(upstream.port, forged);
    assert.equal(forgedAnswer.status, 401);
    assert.equal(forgedAnswer.body.reason, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // An attacker's own key under its own kid is not among the published ones.
    const ownKid = await new SignJWT({ sub: 'john' })
      .setProtectedHeader({ alg: 'ES256', kid: 'attacker', jwk: await exportJWK(attacker.publicKey), typ: 'JWT' })
      .setIssuer('https://auth.example.com')
      .setAudience(APP)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(attacker.privateKey);
    assert.equal((await direct(upstream.port, ownKid)).status, 401);

    // Signed with Gatehouse's own key (read from storage with its secret, as a replica would), ten minutes ago.
    const keys = new IdentityTokenKeys(storage, {
      algorithm: 'ES256',
      rotationSeconds: t.loaded.config.identity_token.key_rotation,
      tokenLifetimeSeconds: 60,
      secret: t.loaded.config.session.secret!,
      logger: pino({ level: 'silent' }),
    });
    await keys.refresh();
    const past = new IdentityTokens(
      identityTokenSettings(t.loaded.config),
      () => keys.signingKey(),
      () => Date.now() - 600_000,
    );
    const user = t.gatehouse.adapters.users.get('john')!;
    const cookie = t.loaded.cookies[0]!;
    const session = { kind: 'session' as const, id: 'x', data: { level: 1 as const, createdAt: Date.now() - 700_000 } };
    const expired = await past.token(user, session, 1, cookie, APP);
    assert.equal(decodeProtectedHeader(expired).kid, kid);
    const expiredAnswer = await direct(upstream.port, expired);
    assert.equal(expiredAnswer.status, 401);
    assert.equal(expiredAnswer.body.reason, 'ERR_JWT_EXPIRED');

    const now = new IdentityTokens(identityTokenSettings(t.loaded.config), () => keys.signingKey());
    const elsewhere = await now.token(user, session, 1, cookie, 'https://other.example.com');
    const elsewhereAnswer = await direct(upstream.port, elsewhere);
    assert.equal(elsewhereAnswer.status, 401);
    assert.equal(elsewhereAnswer.body.reason, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  });
});
