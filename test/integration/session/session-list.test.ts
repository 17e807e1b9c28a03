// Issue 11 §1: "My sessions" and "Sign out everywhere else" through the portal API, on two Gatehouse replicas sharing
// one real Redis with their session caches on: a session ended on one replica is refused on the other; handles
// never give away a session ID; only the user's own sessions can be ended; the index forgets expired sessions;
// users removed from or disabled in the users file lose every session at once.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DEFAULT_USERS, PASSWORD, startGatehouse, type TestGatehouse, type TestUser } from '../../helpers/gatehouse.js';
import type { RedisTestTarget } from '../../helpers/redis.js';
import { authRequest, eventualAuthz, firstFactor, sessionCookieFrom } from '../../helpers/flows.js';
import { onRedis, twoReplicas } from '../../helpers/two-replicas.js';
import { hashedStoreKey } from '../../../src/session/crypto.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
const TARGET = 'https://app.example.com/';

interface ApiSession {
  handle: string;
  browser: string | null;
  os: string | null;
  address: string | null;
  firstSeen: string;
  lastSeen: string;
  level: string;
  rememberMe: boolean;
  current: boolean;
}

/** Signs in with the password from a browser of this User-Agent and address; returns the cookie pair. */
async function signInFrom(t: TestGatehouse, username: string, userAgent: string): Promise<string> {
  const res = await firstFactor(t, { username, password: PASSWORD }).set('User-Agent', userAgent);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return sessionCookieFrom(res)!;
}

function list(t: TestGatehouse, cookie: string) {
  return request(t.url).get('/api/sessions').set('Host', 'auth.example.com').set('Cookie', cookie);
}

function post(
  t: TestGatehouse,
  path: string,
  cookie: string | undefined,
  body?: unknown,
  origin = 'https://auth.example.com',
) {
  const req = request(t.url).post(path).set('Host', 'auth.example.com').set('Origin', origin);
  if (cookie) req.set('Cookie', cookie);
  if (body === undefined) return req;
  return req.set('Content-Type', 'application/json').send(JSON.stringify(body));
}

async function sessionsOf(t: TestGatehouse, cookie: string): Promise<ApiSession[]> {
  const res = await list(t, cookie);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { data: { sessions: ApiSession[] } }).data.sessions;
}

describe('issue 11 §1: a user lists and ends their sessions, across two replicas', () => {
  let redis: RedisTestTarget;
  let a: TestGatehouse;
  let b: TestGatehouse;
  twoReplicas(onRedis(), (up) => ({ redis, a, b } = up));

  it('lists every session of the user on either replica, with device, address, times, level and this device', async () => {
    const laptop = await signInFrom(a, 'john', FIREFOX);
    const phone = await signInFrom(b, 'john', IPHONE);
    await signInFrom(a, 'harry', FIREFOX);
    for (const [t, cookie] of [
      [a, laptop],
      [b, laptop],
    ] as const) {
      const sessions = await sessionsOf(t, cookie);
      assert.equal(sessions.length >= 2, true);
      const mine = sessions.find((s) => s.current)!;
      assert.equal(mine.browser, 'Firefox 133');
      assert.equal(mine.os, 'Linux');
      assert.match(mine.address ?? '', /^(127\.0\.0\.1|::ffff:127\.0\.0\.1|::1)$/);
      assert.equal(mine.level, 'one_factor');
      assert.ok(Date.parse(mine.firstSeen) <= Date.parse(mine.lastSeen));
      assert.ok(sessions.some((s) => !s.current && s.browser === 'Safari 17' && s.os === 'iOS 17'));
      assert.equal(sessions.filter((s) => s.current).length, 1);
    }
    await post(a, '/api/sessions/end-others', laptop);
    assert.equal((await authRequest(a, TARGET, { cookie: phone })).status, 401);
  });

  it('never shows a session ID, its store key or its hash', async () => {
    const cookie = await signInFrom(a, 'john', FIREFOX);
    const id = cookie.split('=')[1]!;
    const key = hashedStoreKey(redis.config.key_prefix, 'session', id);
    const res = await list(a, cookie);
    const page = await request(a.url).get('/settings/sessions').set('Host', 'auth.example.com').set('Cookie', cookie);
    assert.equal(page.status, 200);
    for (const text of [JSON.stringify(res.body), page.text]) {
      assert.ok(!text.includes(id));
      assert.ok(!text.includes(key.split(':').pop()!));
      assert.ok(!text.includes(createHash('sha256').update(id).digest('base64url')));
    }
    assert.match(page.text, /Firefox 133 on Linux/);
    assert.match(page.text, /This device/);
  });

  it('"Sign out" ends a session on replica A and replica B refuses it, its cache warm', async () => {
    const keep = await signInFrom(a, 'john', FIREFOX);
    const other = await signInFrom(b, 'john', IPHONE);
    // Warm B's cache for the other session.
    for (let i = 0; i < 3; i++) assert.equal((await authRequest(b, TARGET, { cookie: other })).status, 200);
    const handle = (await sessionsOf(a, keep)).find((s) => !s.current && s.browser === 'Safari 17')!.handle;
    const res = await post(a, '/api/sessions/end', keep, { handle });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await eventualAuthz(b, TARGET, other, 401), 401);
    assert.equal((await authRequest(a, TARGET, { cookie: other })).status, 401);
    assert.equal((await authRequest(b, TARGET, { cookie: keep })).status, 200, 'the current session stays');
    assert.equal((await post(a, '/api/sessions/end', keep, { handle })).status, 404, 'already ended');
    assert.ok(!(await sessionsOf(b, keep)).some((s) => s.handle === handle));
  });

  it('"Sign out everywhere else" ends every other session on every replica and keeps this one', async () => {
    const keep = await signInFrom(b, 'john', FIREFOX);
    const others = [await signInFrom(a, 'john', IPHONE), await signInFrom(b, 'john', IPHONE)];
    for (const cookie of others) {
      assert.equal((await authRequest(a, TARGET, { cookie })).status, 200);
      assert.equal((await authRequest(b, TARGET, { cookie })).status, 200);
    }
    const res = await post(b, '/api/sessions/end-others', keep);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok((res.body as { data: { ended: number } }).data.ended >= 2);
    for (const cookie of others) {
      assert.equal(await eventualAuthz(a, TARGET, cookie, 401), 401);
      assert.equal(await eventualAuthz(b, TARGET, cookie, 401), 401);
    }
    assert.equal((await authRequest(a, TARGET, { cookie: keep })).status, 200);
    assert.deepEqual(
      (await sessionsOf(a, keep)).map((s) => s.current),
      [true],
    );
  });

  it("one user cannot end another user's session, nor their own current one through this route", async () => {
    const john = await signInFrom(a, 'john', FIREFOX);
    const harry = await signInFrom(a, 'harry', IPHONE);
    const harrysHandle = (await sessionsOf(a, harry)).find((s) => s.current)!.handle;
    assert.equal((await post(a, '/api/sessions/end', john, { handle: harrysHandle })).status, 404);
    assert.equal((await authRequest(b, TARGET, { cookie: harry })).status, 200);
    const johnsHandle = (await sessionsOf(a, john)).find((s) => s.current)!.handle;
    assert.equal((await post(a, '/api/sessions/end', john, { handle: johnsHandle })).status, 400);
    assert.equal((await authRequest(a, TARGET, { cookie: john })).status, 200);
  });

  it('refuses anonymous, cross-site and malformed requests with a short 4xx', async () => {
    const john = await signInFrom(a, 'john', FIREFOX);
    assert.equal((await list(a, 'gatehouse_session=nope')).status, 401);
    assert.equal((await post(a, '/api/sessions/end-others', undefined)).status, 401);
    assert.equal((await post(a, '/api/sessions/end-others', john, undefined, 'https://evil.example.net')).status, 403);
    assert.equal(
      (await post(a, '/api/sessions/end', john, { handle: 'x'.repeat(22), extra: 1 }, 'https://evil.example.net'))
        .status,
      403,
    );
    for (const body of [{}, { handle: 5 }, { handle: 'short' }, { handle: 'a'.repeat(5000) }, []]) {
      const res = await post(a, '/api/sessions/end', john, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((res.body as { status: string }).status, 'KO');
    }
    const page = await request(a.url).get('/settings/sessions').set('Host', 'auth.example.com');
    assert.equal(page.status, 302);
    assert.match(page.headers.location ?? '', /^\/\?rd=https%3A%2F%2Fauth\.example\.com%2Fsettings%2Fsessions$/);
  });
});

describe('issue 11 §1: the index forgets sessions that expired by themselves', () => {
  let t: TestGatehouse;
  let client: Redis;

  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'redis', config: { session: { inactivity: '1s' } } });
    client = new Redis(t.redis!.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await t?.close();
  });

  it('a session ended by inactivity is not listed and leaves the user index', async () => {
    const idle = await signInFrom(t, 'john', IPHONE);
    assert.equal((await authRequest(t, TARGET, { cookie: idle })).status, 200);
    const index = hashedStoreKey(t.redis!.config.key_prefix, 'user-sessions', 'john');
    assert.equal(await client.zcard(index), 1);
    // Past the inactivity of 1 s: Redis drops the session by its TTL; the index still names it until it is read.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const fresh = await signInFrom(t, 'john', FIREFOX);
    assert.equal(await client.zcard(index), 2);
    const listed = await sessionsOf(t, fresh);
    assert.deepEqual(
      listed.map((s) => [s.browser, s.current]),
      [['Firefox 133', true]],
    );
    assert.equal(await client.zcard(index), 1);
  });
});

describe('issue 11 §1: users removed from or disabled in the users file lose every session at once', () => {
  let a: TestGatehouse;
  let b: TestGatehouse;
  twoReplicas(onRedis({ authentication_backend: { file: { watch: true } } }), (up) => ({ a, b } = up));

  it('removing john and disabling harry ends their sessions in the store; others keep theirs', async () => {
    const john = [await signInFrom(a, 'john', FIREFOX), await signInFrom(b, 'john', IPHONE)];
    const harry = await signInFrom(a, 'harry', FIREFOX);
    const users: Record<string, TestUser> = {
      ...DEFAULT_USERS,
      alice: { displayname: 'Alice', email: 'alice@example.com' },
    };
    await a.writeUsers(users);
    await b.writeUsers(users);
    const alice = await eventuallySignIn(a, 'alice');

    const { john: _removed, ...withoutJohn } = users;
    const next = { ...withoutJohn, harry: { ...users.harry!, disabled: true } };
    await a.writeUsers(next);
    await b.writeUsers(next);

    const sessions = a.gatehouse.services.sessions;
    const cookieFor = (domain: string) => a.loaded.cookies.find((c) => c.domain === domain);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const left =
        (await sessions.listUser('john', cookieFor)).length + (await sessions.listUser('harry', cookieFor)).length;
      if (left === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(await sessions.listUser('john', cookieFor), []);
    assert.deepEqual(await sessions.listUser('harry', cookieFor), []);
    const cookie = a.loaded.cookies[0]!;
    for (const pair of [...john, harry])
      assert.equal(await sessions.load([pair.split('=')[1]!], cookie), undefined, 'gone from the store itself');
    assert.equal((await authRequest(b, TARGET, { cookie: alice })).status, 200);
  });
});

/** Signs in once the replica has read the new users file (it is watched, so this takes a moment). */
async function eventuallySignIn(t: TestGatehouse, username: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await firstFactor(t, { username, password: PASSWORD });
    if (res.status === 200) return sessionCookieFrom(res)!;
    if (Date.now() > deadline) throw new Error(`${username} could not sign in: ${res.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
