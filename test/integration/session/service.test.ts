// SessionService over both real stores, with one shared body: what holds for Redis holds for memory.
import { describe, it, beforeAll, afterAll, beforeEach } from '@jest/globals';
import assert from 'node:assert/strict';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { testCookie } from '../../helpers/session-cookie.js';
import { hashedStoreKey, newSessionId, sessionStoreKey } from '../../../src/session/crypto.js';
import { MemorySessionStore } from '../../../src/session/memory-store.js';
import type { Session } from '../../../src/session/model.js';
import { createRedisSessionStore, type RedisSessionStore } from '../../../src/session/redis-store.js';
import { SessionService, type NewSessionData } from '../../../src/session/service.js';
import type { SessionStore } from '../../../src/session/store.js';

const SECRET = 'integration test session secret';

const cookie = testCookie();
const otherCookie = testCookie({ domain: 'example.org', portalUrl: new URL('https://auth.example.org') });

const john: NewSessionData = {
  username: 'john',
  displayName: 'John Doe',
  emails: ['john@example.com'],
  groups: ['admins', 'dev'],
  level: 1,
  rememberMe: false,
};

/** Counts the calls that reach the real store, to show what the hot path costs. */
class CountingStore implements SessionStore {
  calls = { get: 0, set: 0, delete: 0 };
  constructor(readonly inner: SessionStore) {}
  get(key: string) {
    this.calls.get++;
    return this.inner.get(key);
  }
  set(key: string, value: string, ttl: number) {
    this.calls.set++;
    return this.inner.set(key, value, ttl);
  }
  delete(key: string) {
    this.calls.delete++;
    return this.inner.delete(key);
  }
  take(key: string) {
    this.calls.delete++;
    return this.inner.take(key);
  }
  setIfAbsent(key: string, value: string, ttl: number) {
    this.calls.set++;
    return this.inner.setIfAbsent(key, value, ttl);
  }
  replace(key: string, value: string, ttl: number) {
    this.calls.set++;
    return this.inner.replace(key, value, ttl);
  }
  deleteIfEquals(key: string, value: string) {
    this.calls.delete++;
    return this.inner.deleteIfEquals(key, value);
  }
  expireIfEquals(key: string, value: string, ttl: number) {
    this.calls.set++;
    return this.inner.expireIfEquals(key, value, ttl);
  }
  indexAdd(key: string, member: string, expiresAt: number) {
    this.calls.set++;
    return this.inner.indexAdd(key, member, expiresAt);
  }
  indexRemove(key: string, member: string) {
    this.calls.delete++;
    return this.inner.indexRemove(key, member);
  }
  indexMembers(key: string) {
    this.calls.get++;
    return this.inner.indexMembers(key);
  }
  deleteIndexed(key: string) {
    this.calls.delete++;
    return this.inner.deleteIndexed(key);
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
  reset() {
    this.calls = { get: 0, set: 0, delete: 0 };
  }
}

interface Backend {
  store: SessionStore;
  keyPrefix: string;
  close(): Promise<void>;
}

function sessionServiceContract(label: string, open: () => Promise<Backend>): void {
  describe(`SPEC §4/§8 sessions over the ${label} store`, () => {
    let backend: Backend;
    let store: CountingStore;
    let clock: number;
    let service: SessionService;
    const key = (session: Session | string) =>
      sessionStoreKey(backend.keyPrefix, typeof session === 'string' ? session : session.id);
    const stored = (session: Session | string) => backend.store.get(key(session));

    beforeAll(async () => {
      backend = await open();
    });
    afterAll(async () => backend.close());
    beforeEach(() => {
      clock = Date.now();
      store = new CountingStore(backend.store);
      service = new SessionService(store, { secret: SECRET, keyPrefix: backend.keyPrefix, now: () => clock });
    });

    it('creates a session that loads back, in exactly one store round trip', async () => {
      const session = await service.create(john, cookie);
      assert.equal(session.data.cookieDomain, 'example.com');
      assert.equal(session.data.createdAt, clock);
      store.reset();
      const loaded = await service.load([session.id], cookie);
      assert.deepEqual(loaded, session);
      assert.deepEqual(store.calls, { get: 1, set: 0, delete: 0 });
    });

    it('another replica with the same secret reads the session', async () => {
      const session = await service.create(john, cookie);
      const replica = new SessionService(backend.store, {
        secret: SECRET,
        keyPrefix: backend.keyPrefix,
        now: () => clock,
      });
      assert.equal((await replica.load([session.id], cookie))?.data.username, 'john');
    });

    it('absolute expiration is enforced server-side, and the expired session destroyed', async () => {
      const session = await service.create(john, cookie);
      clock += 3590_000;
      session.data.lastActivity = clock; // kept active all along
      await service.save(session, cookie);
      assert.ok(await service.load([session.id], cookie));
      clock += 10_000;
      assert.equal(await service.load([session.id], cookie), undefined);
      assert.equal(await stored(session), null);
    });

    it('inactivity is enforced server-side, and the idle session destroyed', async () => {
      const session = await service.create(john, cookie);
      clock += 299_999;
      assert.ok(await service.load([session.id], cookie));
      clock += 1;
      assert.equal(await service.load([session.id], cookie), undefined);
      assert.equal(await stored(session), null);
    });

    it('remember-me lasts its own duration and ignores inactivity and expiration', async () => {
      const session = await service.create({ ...john, rememberMe: true }, cookie);
      clock += 7 * 86400_000;
      assert.ok(await service.load([session.id], cookie));
      clock += 23 * 86400_000;
      assert.equal(await service.load([session.id], cookie), undefined);
      assert.equal(await stored(session), null);
    });

    it('a remember-me session falls back to the normal limits once remember-me is disabled', async () => {
      const session = await service.create({ ...john, rememberMe: true }, cookie);
      clock += 301_000;
      assert.equal(await service.load([session.id], { ...cookie, rememberMe: -1 }), undefined);
    });

    it('touch writes at most once per second, and keeps an active session alive', async () => {
      const session = await service.create(john, cookie);
      store.reset();
      clock += 999;
      await service.touch(session, cookie);
      assert.equal(store.calls.set, 0);
      clock += 1;
      await service.touch(session, cookie);
      assert.equal(store.calls.set, 1);
      // touch writes a copy (the session given may be the cache's own object): the caller's is left as it was.
      assert.equal(session.data.lastActivity, clock - 1000);
      const touched = (await service.load([session.id], cookie))!;
      assert.equal(touched.data.lastActivity, clock);
      await service.touch(touched, cookie);
      assert.equal(store.calls.set, 1);
      // 250 s more of activity, then 299 s of idleness: alive, counted from the last refresh.
      clock += 250_000;
      await service.touch(touched, cookie);
      clock += 299_000;
      assert.equal((await service.load([session.id], cookie))?.data.lastActivity, clock - 299_000);
    });

    it('touch never writes under remember-me', async () => {
      const session = await service.create({ ...john, rememberMe: true }, cookie);
      store.reset();
      clock += 60_000;
      await service.touch(session, cookie);
      assert.deepEqual(store.calls, { get: 0, set: 0, delete: 0 });
    });

    it('regenerate issues a new ID for the same data and invalidates the old one (no fixation)', async () => {
      const anonymous = await service.create({ ...john, username: '', level: 0 }, cookie);
      anonymous.data = { ...anonymous.data, username: 'john', level: 1 };
      const signedIn = (await service.regenerate(anonymous, cookie))!;
      assert.notEqual(signedIn.id, anonymous.id);
      assert.deepEqual(signedIn.data, anonymous.data);
      assert.equal(await service.load([anonymous.id], cookie), undefined);
      assert.equal(await stored(anonymous), null);
      assert.deepEqual((await service.load([signedIn.id], cookie))?.data, signedIn.data);
    });

    it('regenerating a session that ended meanwhile gives nothing, and leaves no session behind (ending wins)', async () => {
      const user = { ...john, username: `raced-${label}-${clock}` };
      const session = await service.create(user, cookie);
      assert.equal(await service.revokeUser(user.username), 1);
      assert.equal(await service.regenerate(session, cookie), undefined);
      assert.equal(await service.revokeUser(user.username), 0);
    });

    it('destroy ends the session', async () => {
      const session = await service.create(john, cookie);
      await service.destroy(session);
      assert.equal(await service.load([session.id], cookie), undefined);
    });

    it('revokeUser ends every session of that user (regenerated ones too), and only theirs', async () => {
      const user = { ...john, username: `revoke-${label}-${clock}` };
      const [a, b, other] = [
        await service.create(user, cookie),
        await service.create(user, otherCookie),
        await service.create({ ...user, username: `${user.username}-other` }, cookie),
      ];
      const c = (await service.regenerate(await service.create(user, cookie), cookie))!;
      assert.equal(await service.revokeUser(user.username), 3);
      for (const [session, domain] of [
        [a, cookie],
        [b, otherCookie],
        [c, cookie],
      ] as const)
        assert.equal(await service.load([session.id], domain), undefined);
      assert.ok(await service.load([other.id], cookie));
      assert.equal(await service.revokeUser(user.username), 0);
    });

    it('a session ended by sign-out or by its time is no longer listed under its user', async () => {
      const user = { ...john, username: `listed-${label}-${clock}` };
      const out = await service.create(user, cookie);
      await service.destroy(out);
      const expired = await service.create(user, { ...cookie, expiration: 0.05 });
      await new Promise((resolve) => setTimeout(resolve, 120));
      assert.equal(await stored(expired), null);
      assert.equal(await service.revokeUser(user.username), 0);
    });

    it('a session presented for another cookie domain is destroyed', async () => {
      const session = await service.create(john, cookie);
      assert.equal(await service.load([session.id], otherCookie), undefined);
      assert.equal(await stored(session), null);
      assert.equal(await service.load([session.id], cookie), undefined);
    });

    it('malformed cookie values are never looked up', async () => {
      const real = await service.create(john, cookie);
      store.reset();
      const garbage = [
        '',
        'x',
        '../../etc/passwd',
        'A'.repeat(5000),
        `${real.id} `,
        `"${real.id}"`,
        `${real.id.slice(0, 42)}B`,
        '\u0000',
      ];
      assert.equal(await service.load(garbage, cookie), undefined);
      assert.deepEqual(store.calls, { get: 0, set: 0, delete: 0 });
    });

    it('unknown well-formed IDs load nothing; at most three distinct IDs are tried', async () => {
      const real = await service.create(john, cookie);
      const unknown = [newSessionId(), newSessionId(), newSessionId()];
      store.reset();
      assert.equal((await service.load([unknown[0]!, unknown[0]!, unknown[1]!, real.id], cookie))?.id, real.id);
      assert.equal(store.calls.get, 3);
      store.reset();
      assert.equal(await service.load([...unknown, real.id], cookie), undefined);
      assert.equal(store.calls.get, 3);
    });

    it('the second cookie is used when the first names a dead session (a sibling subdomain set it)', async () => {
      const dead = await service.create(john, cookie);
      await service.destroy(dead);
      const live = await service.create(john, cookie);
      assert.equal((await service.load([dead.id, live.id], cookie))?.id, live.id);
    });

    it('a blob moved under another ID does not open, and is deleted', async () => {
      const victim = await service.create(john, cookie);
      const forgedId = newSessionId();
      await backend.store.set(key(forgedId), (await stored(victim))!, 60);
      assert.equal(await service.load([forgedId], cookie), undefined);
      assert.equal(await stored(forgedId), null);
      assert.ok(await service.load([victim.id], cookie));
    });

    it('data sealed with another secret is undecryptable, so the session is dropped and deleted', async () => {
      const session = await service.create(john, cookie);
      const rotated = new SessionService(backend.store, {
        secret: 'a new secret',
        keyPrefix: backend.keyPrefix,
        now: () => clock,
      });
      assert.equal(await rotated.load([session.id], cookie), undefined);
      assert.equal(await stored(session), null);
    });

    it('a stored value that is not ours is dropped and deleted', async () => {
      const id = newSessionId();
      await backend.store.set(
        key(id),
        JSON.stringify({ ...john, cookieDomain: 'example.com', createdAt: clock, lastActivity: clock }),
        60,
      );
      assert.equal(await service.load([id], cookie), undefined);
      assert.equal(await stored(id), null);
    });
  });
}

sessionServiceContract('memory', async () => {
  const store = new MemorySessionStore();
  return { store, keyPrefix: 'gatehouse:', close: () => store.close() };
});

sessionServiceContract('Redis', async () => {
  const target = await redisTestTarget();
  const store = createRedisSessionStore(target.config);
  return {
    store,
    keyPrefix: target.config.key_prefix,
    close: async () => {
      await target.cleanup();
      await store.close();
    },
  };
});

describe('SPEC §8 what Redis holds', () => {
  let target: RedisTestTarget;
  let store: RedisSessionStore;
  let service: SessionService;
  const prefix = () => target.config.key_prefix;

  beforeAll(async () => {
    target = await redisTestTarget();
    store = createRedisSessionStore(target.config);
    service = new SessionService(store, { secret: SECRET, keyPrefix: prefix() });
  });
  afterAll(async () => {
    await target.cleanup();
    await store.close();
  });

  const keysUnderPrefix = async () => (await store.client.keys(`${prefix()}*`)).sort();

  it('the session lives under the hash of its ID; the raw ID and the plaintext appear nowhere', async () => {
    const session = await service.create(john, cookie);
    const keys = await keysUnderPrefix();
    // Beside it, the list of the user's sessions (for `gatehouse sessions revoke`): named by a hash too, and holding
    // only session keys (hashes), never an ID.
    const userKey = hashedStoreKey(prefix(), 'user-sessions', 'john');
    assert.deepEqual(keys, [sessionStoreKey(prefix(), session.id), userKey].sort());
    assert.deepEqual(await store.client.zrange(userKey, '0', '-1'), [sessionStoreKey(prefix(), session.id)]);
    const value = (await store.client.get(sessionStoreKey(prefix(), session.id)))!;
    for (const secret of [session.id, 'john', 'admins', 'example.com', 'cookieDomain', '{']) {
      assert.ok(keys.every((key) => !key.includes(secret)) && !value.includes(secret), `${secret} is visible`);
    }
    assert.match(value, /^v1\./);
    await service.destroy(session);
  });

  it('the TTL is the inactivity window without remember-me, so Redis drops idle sessions itself', async () => {
    const session = await service.create(john, cookie);
    const ttl = await store.client.pttl(sessionStoreKey(prefix(), session.id));
    assert.ok(ttl > 295_000 && ttl <= 300_000, String(ttl));
  });

  it('the TTL is the remaining absolute lifetime when that is shorter than the inactivity window', async () => {
    const clock = Date.now();
    const late = new SessionService(store, { secret: SECRET, keyPrefix: prefix(), now: () => clock });
    const session: Session = {
      id: newSessionId(),
      data: { ...john, cookieDomain: 'example.com', createdAt: clock - 3540_000, lastActivity: clock },
    };
    await store.set(sessionStoreKey(prefix(), session.id), 'placeholder', 10);
    assert.equal(await late.save(session, cookie), true, 'an existing session is written in place');
    await store.delete(sessionStoreKey(prefix(), 'unused'));
    const ttl = await store.client.pttl(sessionStoreKey(prefix(), session.id));
    assert.ok(ttl > 55_000 && ttl <= 60_000, String(ttl));
  });

  it('saving in place never brings back a session that was destroyed meanwhile', async () => {
    const session = await service.create(john, cookie);
    const inFlight = (await service.load([session.id], cookie))!;
    await service.destroy(session);
    assert.equal(await service.save(inFlight, cookie), false);
    assert.equal(await store.get(sessionStoreKey(prefix(), session.id)), null);
  });

  it('the TTL is the remember-me duration under remember-me', async () => {
    const session = await service.create({ ...john, rememberMe: true }, cookie);
    const ttl = await store.client.pttl(sessionStoreKey(prefix(), session.id));
    assert.ok(ttl > 30 * 86400_000 - 5_000 && ttl <= 30 * 86400_000, String(ttl));
  });
});

describe('the decoded-session cache never serves a stale session', () => {
  it('a session deleted or changed through another service instance is seen at once', async () => {
    const store = new MemorySessionStore();
    const a = new SessionService(store, { secret: 'a-secret-of-at-least-thirty-two-chars!!' });
    const b = new SessionService(store, { secret: 'a-secret-of-at-least-thirty-two-chars!!' });
    const cookie = testCookie({ rememberMe: 0 });
    const created = await a.create(
      { username: 'john', displayName: 'John', emails: [], groups: ['dev'], level: 1, rememberMe: false },
      cookie,
    );
    const loaded = await a.load([created.id], cookie);
    assert.equal(loaded?.data.level, 1);
    loaded!.data.groups.push('mutated');
    assert.deepEqual(
      (await a.load([created.id], cookie))?.data.groups,
      ['dev'],
      'callers cannot change the cached copy',
    );
    const fromB = (await b.load([created.id], cookie))!;
    fromB.data.level = 2;
    await b.save(fromB, cookie);
    assert.equal((await a.load([created.id], cookie))?.data.level, 2);
    await b.destroy(fromB);
    assert.equal(await a.load([created.id], cookie), undefined);
    await store.close();
  });
});

describe('single-use tokens (WebAuthn challenges) hold across racing callers', () => {
  for (const [label, open] of [
    ['memory', async () => ({ store: new MemorySessionStore() as SessionStore, done: async () => undefined })],
    [
      'Redis',
      async () => {
        const target = await redisTestTarget();
        const store = createRedisSessionStore(target.config);
        return {
          store: store as SessionStore,
          done: async () => {
            await store.close();
            await target.cleanup();
          },
        };
      },
    ],
  ] as const) {
    it(`exactly one of many concurrent useOnce calls wins (${label})`, async () => {
      const { store, done } = await open();
      try {
        const service = new SessionService(store, {
          secret: 'a-secret-of-at-least-thirty-two-chars!!',
          keyPrefix: 'gh_t_once:',
        });
        await service.markOnce('challenge-1', 60);
        const results = await Promise.all(Array.from({ length: 20 }, () => service.useOnce('challenge-1')));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await service.useOnce('never-marked'), false);
        const locks = await Promise.all(
          Array.from({ length: 10 }, (_, i) => service.tryLock('password-check:user:john', `owner-${i}`, 5)),
        );
        assert.equal(locks.filter(Boolean).length, 1, 'one holder at a time');
        const owner = `owner-${locks.indexOf(true)}`;
        await service.unlock('password-check:user:john', 'someone-else');
        assert.equal(
          await service.extendLock('password-check:user:john', 'someone-else', 5),
          false,
          'only the holder extends it',
        );
        assert.equal(await service.tryLock('password-check:user:john', 'late', 5), false, 'only the holder frees it');
        assert.equal(await service.extendLock('password-check:user:john', owner, 5), true);
        await service.unlock('password-check:user:john', owner);
        assert.equal(await service.tryLock('password-check:user:john', 'late', 5), true, 'free again once unlocked');
      } finally {
        await done();
      }
    });
  }
});
