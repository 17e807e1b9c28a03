// Issue 10 §1: warm sessions answered from memory, kept honest by Redis client tracking (BCAST + REDIRECT). Against a
// real redis-server of this file's own (so FLUSHALL and CLIENT KILL touch nobody else), with two SessionServices as
// two replicas, each with its own cache and feed.
import { describe, it, beforeAll, afterAll, beforeEach, afterEach } from '@jest/globals';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freePort } from '../../helpers/process.js';
import { Relay } from '../../helpers/relay.js';
import { type RedisProcess, startRedisServer, stopRedisServer } from '../../helpers/redis-server.js';
import { testCookie } from '../../helpers/session-cookie.js';
import { configSchema } from '../../../src/config/schema.js';
import { sessionKeyPrefix, sessionStoreKey } from '../../../src/session/crypto.js';
import { RedisInvalidationFeed } from '../../../src/session/invalidation.js';
import type { Session } from '../../../src/session/model.js';
import { createRedisSessionStore, redisClientOptions, type RedisConfig } from '../../../src/session/redis-store.js';
import { SessionCache } from '../../../src/session/session-cache.js';
import { SessionService, type NewSessionData } from '../../../src/session/service.js';
import type { SessionStore } from '../../../src/session/store.js';

const SECRET = 'session cache test secret of some length';
const PREFIX = 'cachetest:';

const cookie = testCookie();

const john: NewSessionData = {
  username: 'john',
  displayName: 'John Doe',
  emails: ['john@example.com'],
  groups: ['dev'],
  level: 1,
  rememberMe: false,
};

/** Counts the reads that reach the real store: a warm load must make none. */
class CountingStore implements SessionStore {
  gets = 0;
  constructor(readonly inner: SessionStore) {}
  get(key: string) {
    this.gets++;
    return this.inner.get(key);
  }
  set = (key: string, value: string, ttl: number) => this.inner.set(key, value, ttl);
  delete = (key: string) => this.inner.delete(key);
  replace = (key: string, value: string, ttl: number) => this.inner.replace(key, value, ttl);
  setIfAbsent = (key: string, value: string, ttl: number) => this.inner.setIfAbsent(key, value, ttl);
  take = (key: string) => this.inner.take(key);
  deleteIfEquals = (key: string, value: string) => this.inner.deleteIfEquals(key, value);
  expireIfEquals = (key: string, value: string, ttl: number) => this.inner.expireIfEquals(key, value, ttl);
  indexAdd = (key: string, member: string, at: number) => this.inner.indexAdd(key, member, at);
  indexRemove = (key: string, member: string) => this.inner.indexRemove(key, member);
  indexMembers = (key: string) => this.inner.indexMembers(key);
  deleteIndexed = (key: string) => this.inner.deleteIndexed(key);
  ping = () => this.inner.ping();
  close = () => this.inner.close();
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

interface Replica {
  store: CountingStore;
  cache: SessionCache;
  feed: RedisInvalidationFeed;
  service: SessionService;
  close(): Promise<void>;
}

/** A replica: its own store client, cache and feed (the feed may go through a relay the test cuts). */
async function replica(config: RedisConfig, feedPort: number, now?: () => number): Promise<Replica> {
  const store = new CountingStore(createRedisSessionStore(config));
  const cache = new SessionCache({ maxEntries: 1_000, maxBytes: 16 * 1024 * 1024 });
  const feed = new RedisInvalidationFeed({
    redis: redisClientOptions({ ...config, port: feedPort }),
    prefix: sessionKeyPrefix(config.key_prefix),
    sink: cache,
  });
  feed.start();
  await until('feed trusted', () => feed.trusted);
  const service = new SessionService(store, { secret: SECRET, keyPrefix: config.key_prefix, cache, now });
  return {
    store,
    cache,
    feed,
    service,
    async close() {
      await feed.close();
      await store.close();
    },
  };
}

describe('issue 10 §1 session cache over a real Redis', () => {
  let server: RedisProcess | undefined;
  let port: number;
  let config: RedisConfig;
  let raw: Redis;
  let relay: Relay;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    port = await freePort();
    server = await startRedisServer(
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      port,
    );
    raw = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
    raw.on('error', () => undefined);
    await until('redis-server up', async () => (await raw.ping().catch(() => '')) === 'PONG', 10_000);
    config = configSchema.shape.session
      .unwrap()
      .shape.redis.unwrap()
      .parse({ host: '127.0.0.1', port, key_prefix: PREFIX });
    relay = new Relay({ host: '127.0.0.1', port });
    await relay.start();
  });

  afterAll(async () => {
    await relay?.cut();
    raw?.disconnect();
    if (server) await stopRedisServer(server);
  });

  beforeEach(async () => {
    // Replica a's feed runs through the relay (so a test can cut or hang it); b's goes straight to Redis.
    a = await replica(config, relay.port);
    b = await replica(config, port);
  });

  afterEach(async () => {
    relay.resume();
    await a.close();
    await b.close();
  });

  /** A session made on b, loaded once on a (which reads it from Redis and caches it). */
  async function warmOnA(data: NewSessionData = john): Promise<Session> {
    const session = await b.service.create(data, cookie);
    assert.ok(await a.service.load([session.id], cookie));
    await until('warm on a', async () => {
      const before = a.store.gets;
      await a.service.load([session.id], cookie);
      return a.store.gets === before;
    });
    return session;
  }

  it('a warm session is answered with no Redis command, many times over', async () => {
    const session = await warmOnA();
    const before = a.store.gets;
    for (let i = 0; i < 1_000; i++) assert.ok(await a.service.load([session.id], cookie));
    assert.equal(a.store.gets, before);
    assert.ok(a.cache.counters.hits >= 1_000);
  });

  it('peek (the authz fast path) answers only what the cache may answer alone, and a touch never changes the cached copy', async () => {
    const cold = await b.service.create(john, cookie);
    assert.equal(a.service.peek([cold.id], cookie), undefined, 'never read on a: not fresh there');
    const session = await warmOnA();
    const before = a.store.gets;
    const seen = a.service.peek(['not-a-session-id', session.id], cookie);
    assert.equal(seen?.data.username, 'john');
    assert.equal(a.store.gets, before, 'no store read');
    // The first well-formed value is the one load tries first: peek never answers for a later one.
    assert.equal(a.service.peek([cold.id, session.id], cookie), undefined);
    assert.equal(a.service.peek([session.id], { ...cookie, domain: 'other.example' }), undefined, 'another domain');
    const lastActivity = seen!.data.lastActivity;
    await a.service.touch(seen!, cookie);
    assert.equal(seen!.data.lastActivity, lastActivity, 'the cached object is left as it was');
    await b.service.destroy(session);
    await until('peek stops answering on a', async () => a.service.peek([session.id], cookie) === undefined);
  });

  it('concurrent loads of a session that is not fresh share one Redis read; a change reported meanwhile is not shared', async () => {
    const session = await warmOnA();
    await b.service.save((await b.service.load([session.id], cookie))!, cookie);
    await until('a hears the change', async () => a.service.peek([session.id], cookie) === undefined);
    const before = a.store.gets;
    const loads = await Promise.all(Array.from({ length: 50 }, () => a.service.load([session.id], cookie)));
    assert.ok(loads.every((loaded) => loaded?.data.username === 'john'));
    assert.equal(a.store.gets - before, 1, 'one GET for fifty loads');
    // Every caller has its own copy.
    loads[0]!.data.groups.push('changed');
    assert.deepEqual(loads[1]!.data.groups, john.groups);
    // Destroyed on b while a's next read is in flight: a load that starts after the report does not join that read.
    await b.service.save((await b.service.load([session.id], cookie))!, cookie);
    await until('a hears the change', async () => a.service.peek([session.id], cookie) === undefined);
    const first = a.service.load([session.id], cookie);
    await b.service.destroy(session);
    await until('a hears the destruction', async () => (await a.service.load([session.id], cookie)) === undefined);
    await first;
  });

  it('sign-out (destroy) on one replica is refused by the other once Redis reports it', async () => {
    const session = await warmOnA();
    await b.service.destroy(session);
    const ms = await until('refused on a', async () => (await a.service.load([session.id], cookie)) === undefined);
    console.log(`destroy on b seen on a after ${ms} ms`);
  });

  it('a level change (regenerate) and a save are seen by the other replica', async () => {
    const session = await warmOnA();
    const loaded = (await b.service.load([session.id], cookie))!;
    loaded.data.level = 2;
    assert.ok(await b.service.save(loaded, cookie));
    await until('level 2 on a', async () => (await a.service.load([session.id], cookie))?.data.level === 2);
    const renewed = await b.service.regenerate(loaded, cookie);
    assert.ok(renewed);
    await until('old id refused on a', async () => (await a.service.load([session.id], cookie)) === undefined);
    assert.equal((await a.service.load([renewed.id], cookie))?.data.level, 2);
  });

  it('"sign out everywhere" (revokeUser) on one replica ends every cached session of the user on the other', async () => {
    const mary = { ...john, username: 'mary' };
    const one = await warmOnA(mary);
    const two = await warmOnA(mary);
    assert.equal(await b.service.revokeUser('mary'), 2);
    await until('both refused on a', async () => {
      const [x, y] = await Promise.all([a.service.load([one.id], cookie), a.service.load([two.id], cookie)]);
      return x === undefined && y === undefined;
    });
  });

  it('a change made outside Gatehouse (redis-cli DEL, expiry) is reported too', async () => {
    const session = await warmOnA();
    await raw.del(sessionStoreKey(PREFIX, session.id));
    await until('refused after DEL', async () => (await a.service.load([session.id], cookie)) === undefined);
    const other = await warmOnA();
    await raw.pexpire(sessionStoreKey(PREFIX, other.id), 1);
    await until('refused after expiry', async () => (await a.service.load([other.id], cookie)) === undefined);
  });

  it('FLUSHALL drops the whole cache', async () => {
    const session = await warmOnA();
    const resets = a.cache.counters.resets;
    await raw.flushall();
    await until('reset', () => a.cache.counters.resets > resets);
    assert.equal(a.cache.size, 0);
    assert.equal(await a.service.load([session.id], cookie), undefined);
  });

  it('the replica that writes keeps answering right: its touch is read back, never lost', async () => {
    const session = await warmOnA();
    const loaded = (await a.service.load([session.id], cookie))!;
    loaded.data.lastActivity += 1_500;
    assert.ok(await a.service.save(loaded, cookie));
    assert.equal((await a.service.load([session.id], cookie))?.data.lastActivity, loaded.data.lastActivity);
    assert.equal((await b.service.load([session.id], cookie))?.data.lastActivity, loaded.data.lastActivity);
  });

  it('a read in flight when its key is changed is not cached fresh (the next load reads Redis again)', async () => {
    // a's store path is held by hanging a second relay in front of a fresh replica c (feed direct).
    const storeRelay = new Relay({ host: '127.0.0.1', port });
    await storeRelay.start();
    const c = await replica({ ...config, port: storeRelay.port }, port);
    try {
      const session = await b.service.create(john, cookie);
      await c.service.load([session.id], cookie); // connected and memoised
      await b.service.destroy(session);
      const recreated = await b.service.create(john, cookie);
      // Every earlier report delivered first, so the count below moves only for the change made during the hold.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reported = c.cache.counters.invalidations;
      storeRelay.hang();
      const inFlight = c.service.load([recreated.id], cookie);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Changed while c's GET is held: Redis reports it on c's feed before the GET's answer arrives.
      const changed = (await b.service.load([recreated.id], cookie))!;
      changed.data.level = 2;
      assert.ok(await b.service.save(changed, cookie));
      await until('c told of the change', () => c.cache.counters.invalidations > reported);
      storeRelay.resume();
      assert.ok(await inFlight);
      const before = c.store.gets;
      assert.equal((await c.service.load([recreated.id], cookie))?.data.level, 2);
      assert.equal(c.store.gets, before + 1, 'the racing answer was not trusted: Redis was read again');
    } finally {
      storeRelay.resume();
      await c.close();
      await storeRelay.cut();
    }
  });

  it('a cached session past its inactivity deadline is refused, never answered from the cache', async () => {
    let clock = Date.now();
    const c = await replica(config, port, () => clock);
    try {
      const session = await c.service.create(john, cookie);
      await until('warm on c', async () => {
        const before = c.store.gets;
        await c.service.load([session.id], cookie);
        return c.store.gets === before;
      });
      clock += (cookie.inactivity + 1) * 1000;
      assert.equal(await c.service.load([session.id], cookie), undefined);
      assert.equal(await raw.exists(sessionStoreKey(PREFIX, session.id)), 0, 'and removed from Redis');
    } finally {
      await c.close();
    }
  });

  it('Redis refusing client tracking (an ACL without CLIENT): cache off, said once at warn, every load reads Redis', async () => {
    await raw.call('ACL', 'SETUSER', 'no-tracking', 'on', '>a-password', '~*', '&*', '+@all', '-client');
    const warnings: string[] = [];
    const cache = new SessionCache({ maxEntries: 100, maxBytes: 1_000_000 });
    const feed = new RedisInvalidationFeed({
      redis: redisClientOptions({ ...config, username: 'no-tracking', password: 'a-password' }),
      prefix: sessionKeyPrefix(PREFIX),
      sink: cache,
      logger: { info: () => undefined, warn: (_: unknown, message: string) => warnings.push(message) } as never,
    });
    const store = new CountingStore(createRedisSessionStore(config));
    const service = new SessionService(store, { secret: SECRET, keyPrefix: PREFIX, cache });
    feed.start();
    try {
      await until('refusal logged', () => warnings.length > 0);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /refused client tracking/);
      const session = await service.create(john, cookie);
      for (let i = 0; i < 3; i++) assert.ok(await service.load([session.id], cookie));
      assert.equal(store.gets, 3);
      assert.equal(feed.trusted, false);
    } finally {
      await feed.close();
      await store.close();
      await raw.call('ACL', 'DELUSER', 'no-tracking');
    }
  });

  describe('the feed down or hung: the cache is distrusted, every load reads Redis', () => {
    it('cut: dropped at once; a revocation during the cut is honoured at once; back to warm after', async () => {
      const session = await warmOnA();
      await relay.cut();
      await until('distrusted', () => !a.feed.trusted);
      assert.equal(a.cache.size, 0);
      // Made while a cannot hear about it.
      await raw.del(sessionStoreKey(PREFIX, session.id));
      assert.equal(await a.service.load([session.id], cookie), undefined);
      const other = await b.service.create(john, cookie);
      const before = a.store.gets;
      for (let i = 0; i < 5; i++) assert.ok(await a.service.load([other.id], cookie));
      assert.equal(a.store.gets, before + 5, 'every load read Redis while the feed was down');
      await relay.start();
      await until('trusted again', () => a.feed.trusted, 10_000);
      await a.service.load([other.id], cookie);
      const warm = a.store.gets;
      await a.service.load([other.id], cookie);
      assert.equal(a.store.gets, warm);
    });

    it('CLIENT KILL of either connection: distrusted until re-established', async () => {
      for (const name of ['gatehouse-invalidation', 'gatehouse-tracking']) {
        const session = await warmOnA();
        const list = String(await raw.call('CLIENT', 'LIST'));
        const ids = list
          .split('\n')
          .filter((line) => line.includes(`name=${name} `))
          .map((line) => /id=(\d+)/.exec(line)![1]!);
        assert.ok(ids.length >= 1, name);
        for (const id of ids) await raw.call('CLIENT', 'KILL', 'ID', id);
        await raw.del(sessionStoreKey(PREFIX, session.id));
        // Whether or not the feed is back yet, the deletion is never missed.
        assert.equal(await a.service.load([session.id], cookie), undefined, name);
        await until(`trusted again after killing ${name}`, () => a.feed.trusted && b.feed.trusted, 10_000);
      }
    });

    it('hung: distrusted within about a second, by the heartbeat', async () => {
      await warmOnA();
      relay.hang();
      const ms = await until('distrusted', () => !a.feed.trusted, 3_000);
      console.log(`hung feed distrusted after ${ms} ms`);
      assert.equal(a.cache.size, 0);
      relay.resume();
      await until('trusted again', () => a.feed.trusted, 15_000);
    });
  });
});
