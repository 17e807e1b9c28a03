// Issue 4, item 4 (SPEC §9): three `gatehouse serve` processes with one configuration file, one Redis and one
// PostgreSQL, behind the real nginx balancing over them with the shipped snippets (`upstream gatehouse` with three
// `server` lines). Steps that must reach a given replica talk to it directly; the rest go through nginx.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { DEFAULT_USERS, PASSWORD, testConfig, usersYaml, type TestUser } from '../../helpers/gatehouse.js';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { cookiePair, httpRequest, type SimpleResponse } from '../../helpers/process.js';
import { extractLink, readMessages } from '../../helpers/mail.js';
import { createCredential, getAssertion, type SoftCredential } from '../../helpers/soft-authenticator.js';
import {
  echoOf,
  send,
  startEchoUpstream,
  startNginx,
  type EchoUpstream,
  type ProxyProcess,
  type Reply,
} from '../helpers/proxies.js';
import { PROXY_ACCESS_CONTROL } from '../helpers/proxy-scenarios.js';
import { runBounded, startReplicas, type Replica } from '../helpers/replicas.js';

const PORTAL = 'https://auth.example.com';
const APP = 'https://app.example.com';
const SECURE = 'https://secure.example.com';
const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

/** The default users, plus one per scenario that must not share a user (regulation, email throttling). */
const USERS: Record<string, TestUser> = {
  ...DEFAULT_USERS,
  alice: { displayname: 'Alice Key', email: 'alice@example.com', groups: ['dev'] },
  mail1: { email: 'mail1@example.com' },
  mail2: { email: 'mail2@example.com' },
  mail3: { email: 'mail3@example.com' },
};

interface ApiReply {
  status: number;
  body: { status?: string; message?: string; data?: unknown };
  /** The session cookie the reply set, if it set one. */
  cookie: string | undefined;
}

function parsed(res: SimpleResponse): ApiReply {
  let body: ApiReply['body'] = {};
  try {
    body = JSON.parse(res.body) as ApiReply['body'];
  } catch {
    // not JSON: the status says enough
  }
  return { status: res.status, body, cookie: cookiePair(res) };
}

/** The portal's JSON API on one replica, as the portal page would call it. */
async function api(
  replica: Replica,
  method: 'GET' | 'POST',
  path: string,
  cookie?: string,
  body?: unknown,
): Promise<ApiReply> {
  const headers: Record<string, string> = {
    Host: 'auth.example.com',
    ...JSON_HEADERS,
    ...(cookie ? { Cookie: cookie } : {}),
  };
  if (method !== 'GET') headers.Origin = PORTAL;
  const res = await httpRequest(`${replica.url}${path}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  return parsed(res);
}

async function signIn(replica: Replica, username: string, password = PASSWORD): Promise<ApiReply> {
  return api(replica, 'POST', '/api/firstfactor', undefined, { username, password });
}

async function signedIn(replica: Replica, username: string): Promise<string> {
  const reply = await signIn(replica, username);
  assert.equal(reply.status, 200, `sign-in of ${username} on ${replica.name}: ${JSON.stringify(reply.body)}`);
  assert.ok(reply.cookie);
  return reply.cookie;
}

/** nginx's auth_request subrequest, sent to one replica. */
async function authz(replica: Replica, target: string, cookie: string): Promise<SimpleResponse> {
  return httpRequest(`${replica.url}/api/authz/auth-request`, {
    headers: { 'X-Original-URL': target, 'X-Original-Method': 'GET', 'X-Forwarded-For': '192.0.2.10', Cookie: cookie },
  });
}

function assertAppServed(reply: Reply, user: string, context: string): void {
  assert.equal(reply.status, 200, `${context}: ${reply.status} ${reply.body.slice(0, 200)}`);
  assert.equal(echoOf(reply).headers['remote-user'], user, context);
}

describe('three Gatehouse replicas behind nginx, one Redis and one PostgreSQL', () => {
  let dir: string;
  let mailbox: string;
  let redis: RedisTestTarget | undefined;
  let postgres: PostgresTestTarget | undefined;
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;
  let c: Replica;
  let upstream: EchoUpstream | undefined;
  let nginx: ProxyProcess | undefined;

  /** Through nginx, as a browser would (the shipped site is https). */
  const viaNginx = (url: string, cookie?: string, init: { method?: string; body?: string } = {}) =>
    send(nginx!, url, {
      ...init,
      headers: { ...(init.body ? { ...JSON_HEADERS, Origin: PORTAL } : {}), ...(cookie ? { Cookie: cookie } : {}) },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-replicas-nginx-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(USERS));
    redis = await redisTestTarget();
    postgres = await postgresTestTarget();
    const { raw } = await testConfig({
      dir,
      usersPath,
      sessions: 'redis',
      storage: 'postgres',
      redis,
      postgres,
      // debug: each authz decision is logged, which shows which replica nginx asked.
      config: { log: { level: 'debug', format: 'json' }, access_control: PROXY_ACCESS_CONTROL },
    });
    // Every replica appends its emails to the one file the configuration names.
    mailbox = (raw.notifier as { filesystem: { filename: string } }).filesystem.filename;
    const configPath = join(dir, 'configuration.yml');
    writeFileSync(configPath, stringify(raw));
    [a, b, c] = (await startReplicas(configPath, ['A', 'B', 'C'], replicas)) as [Replica, Replica, Replica];
    upstream = await startEchoUpstream();
    nginx = await startNginx({
      gatehousePort: a.port,
      gatehouseReplicaPorts: [b.port, c.port],
      upstreamPort: upstream.port,
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await upstream?.close();
    await Promise.all(replicas.map((replica) => replica.stop()));
    await redis?.cleanup();
    await postgres?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every replica appends its identity emails to the one notification file', async () => {
    const senders = [
      ['mail1', a],
      ['mail2', b],
      ['mail3', c],
    ] as const;
    // At the same time: three processes appending to one file must not interleave their messages.
    await Promise.all(
      senders.map(async ([username, replica]) => {
        const cookie = await signedIn(replica, username);
        const start = await api(replica, 'POST', '/api/identity/start', cookie, { action: 'register_webauthn' });
        assert.equal(start.status, 200, JSON.stringify(start.body));
      }),
    );
    const messages = readMessages(mailbox);
    for (const [username] of senders) {
      const mine = messages.filter((m) => m.recipient.endsWith(`<${username}@example.com>`));
      assert.equal(mine.length, 1, `one message for ${username}`);
      assert.match(extractLink(mine[0]!.body), /^https:\/\/auth\.example\.com\/webauthn\/register\?token=/);
    }
  });

  it('password on A, key enrolled across replicas, second factor on B, two_factor authz on C', async () => {
    // First factor on A.
    const levelOne = await signedIn(a, 'alice');

    // Identity check: emailed by A, redeemed on B; C knows the link is spent.
    const start = await api(a, 'POST', '/api/identity/start', levelOne, { action: 'register_webauthn' });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const message = readMessages(mailbox).findLast((m) => m.recipient.endsWith('<alice@example.com>'));
    assert.ok(message, 'the identity email for alice is in the file');
    const token = new URL(extractLink(message.body)).searchParams.get('token');
    const finish = await api(b, 'POST', '/api/identity/finish', levelOne, { token });
    assert.equal(finish.status, 200, JSON.stringify(finish.body));
    const elevated = finish.cookie ?? levelOne;
    assert.equal(
      (await api(c, 'POST', '/api/identity/finish', elevated, { token })).status,
      400,
      'the link is spent on every replica',
    );

    // Registration: options (and the challenge, in the Redis session) from C, the answer checked by A.
    const creation = await api(c, 'POST', '/api/webauthn/registration/options', elevated);
    assert.equal(creation.status, 200, JSON.stringify(creation.body));
    const { credential, response } = createCredential(creation.body.data as PublicKeyCredentialCreationOptionsJSON, {
      origin: PORTAL,
    });
    const registered = await api(a, 'POST', '/api/webauthn/registration', elevated, {
      description: 'Key via A',
      response,
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));

    // A fresh sign-in on A is one factor: C refuses the two-factor app.
    const fresh = await signedIn(a, 'alice');
    assert.equal((await authz(c, `${SECURE}/reports`, fresh)).status, 401);

    // Second factor on B with the key enrolled through A and C.
    const levelTwo = await secondFactor(b, fresh, credential);

    // C lets the session through the two_factor rule; so does nginx, whichever replica it asks.
    const decision = await authz(c, `${SECURE}/reports`, levelTwo);
    assert.equal(decision.status, 200);
    assert.equal(decision.headers['remote-user'], 'alice');
    for (let i = 0; i < 3; i += 1)
      assertAppServed(await viaNginx(`${SECURE}/reports/${i}`, levelTwo), 'alice', `through nginx #${i}`);
    const state = await api(a, 'GET', '/api/state', levelTwo);
    assert.equal((state.body.data as { authentication_level: number }).authentication_level, 2);
  });

  /** Options and the answer both on `replica`; returns the level-2 session's cookie. */
  async function secondFactor(replica: Replica, cookie: string, credential: SoftCredential): Promise<string> {
    const request = await api(replica, 'POST', '/api/webauthn/authentication/options', cookie);
    assert.equal(request.status, 200, JSON.stringify(request.body));
    const response = getAssertion(credential, request.body.data as PublicKeyCredentialRequestOptionsJSON, {
      origin: PORTAL,
    });
    const verified = await api(replica, 'POST', '/api/webauthn/authentication', cookie, { response });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    return verified.cookie ?? cookie;
  }

  it('regulation counts failures spread over A, B and C: the user is banned on all of them', async () => {
    // Control: harry can sign in (a success before the failures does not excuse them).
    await signedIn(c, 'harry');
    for (const [replica, password] of [
      [a, 'wrong-1'],
      [b, 'wrong-2'],
      [c, 'wrong-3'],
    ] as const) {
      assert.equal((await signIn(replica, 'harry', password)).status, 401, `failure on ${replica.name}`);
    }
    const withRightPassword = await Promise.all([
      ...[a, b, c].map((replica) => signIn(replica, 'harry').then((reply) => [replica.name, reply.status] as const)),
      viaNginx(`${PORTAL}/api/firstfactor`, undefined, {
        method: 'POST',
        body: JSON.stringify({ username: 'harry', password: PASSWORD }),
      }).then((reply) => ['nginx', reply.status] as const),
    ]);
    assert.deepEqual(
      withRightPassword,
      [
        ['A', 401],
        ['B', 401],
        ['C', 401],
        ['nginx', 401],
      ],
      'banned everywhere (silently)',
    );
  });

  it('a replica killed mid-load loses no session and fails no request; a restarted one rejoins', async () => {
    const signInReply = await viaNginx(`${PORTAL}/api/firstfactor`, undefined, {
      method: 'POST',
      body: JSON.stringify({ username: 'john', password: PASSWORD }),
    });
    assert.equal(signInReply.status, 200, signInReply.body);
    const cookie = signInReply.headers['set-cookie']
      ?.find((line) => line.startsWith('gatehouse_session='))
      ?.split(';')[0];
    assert.ok(cookie);

    const TOTAL = 300;
    const CONCURRENCY = 8;
    const KILL_AFTER = 60;
    let completed = 0;
    let killed: Promise<void> | undefined;
    let decisionsOnCBeforeKill = 0;
    const replies = await runBounded(TOTAL, CONCURRENCY, async (index) => {
      const reply = await viaNginx(`${APP}/load/${index}`, cookie).catch(
        (error: Error): Reply => ({ status: 0, headers: {}, body: error.message }),
      );
      completed += 1;
      if (completed === KILL_AFTER) {
        decisionsOnCBeforeKill = c.authzDecisions();
        // Not awaited here: the kill lands while the other workers' requests are in flight.
        killed = c.kill();
      }
      return reply;
    });
    await killed;
    assert.ok(killed, 'C was killed during the load');
    assert.ok(decisionsOnCBeforeKill > 0, 'nginx was sending C its share before it died');
    const failed = replies
      .map((reply, index) => ({ index, reply }))
      .filter(({ reply }) => reply.status !== 200 || reply.headers['x-echo'] !== 'yes');
    assert.deepEqual(
      failed.map(({ index, reply }) => `#${index}: ${reply.status} ${reply.body.slice(0, 100)}`),
      [],
      'every request served by the app',
    );
    for (const reply of replies) assert.equal(echoOf(reply).headers['remote-user'], 'john');
    // Retries, not luck: nginx did reach the dead C (a reset or refused connection) and asked another replica instead.
    const metDeadC = nginx!
      .output()
      .split('\n')
      .filter((line) => line.includes('[error]') && line.includes(`upstream: "http://127.0.0.1:${c.port}/`));
    assert.ok(metDeadC.length > 0, `nginx never reached the dead C:\n${nginx!.output().slice(-2000)}`);

    // The survivors keep serving the same session.
    for (const replica of [a, b])
      assert.equal((await authz(replica, `${APP}/`, cookie)).status, 200, `${replica.name} after the kill`);

    // C comes back on its port with the session intact (it lives in Redis), and nginx sends it requests again once
    // its fail_timeout (10 s by default) has passed.
    await c.restart();
    assert.equal((await authz(c, `${APP}/`, cookie)).status, 200, 'the restarted C honours the session');
    const decisionsBefore = c.authzDecisions();
    const deadline = Date.now() + 20_000;
    let rejoinRequests = 0;
    while (c.authzDecisions() === decisionsBefore) {
      assert.ok(Date.now() < deadline, 'nginx never asked the restarted C');
      assertAppServed(
        await viaNginx(`${APP}/rejoin/${rejoinRequests}`, cookie),
        'john',
        `request ${rejoinRequests} while C rejoins`,
      );
      rejoinRequests += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
