// Issue 10 §3: sessions in a Redis Cluster (`session.redis.cluster`). A real cluster (three primaries, one replica
// each) started by the test, and two Gatehouse replicas on it: sign-in, authz, sign-out, a level change and
// `gatehouse sessions revoke` seen by both; session keys keep their single-node names and spread over every primary;
// ending a user's sessions (the one operation over several slots) still wins over a regenerate racing with it.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, signIn } from '../../helpers/flows.js';
import { runCli } from '../../helpers/process.js';
import type { RedisClusterUnderTest } from '../../helpers/redis-cluster.js';
import { onRedisCluster, twoReplicas } from '../../helpers/two-replicas.js';
import type { Cluster } from 'ioredis';
import { hashedStoreKey, sessionStoreKey } from '../../../src/session/crypto.js';
import type { Session } from '../../../src/session/model.js';
import { createRedisSessionStore } from '../../../src/session/redis-store.js';
import { deleteIndexedAcrossSlots } from '../../../src/session/redis-cluster.js';
import { SessionService } from '../../../src/session/service.js';

const TARGET = 'https://app.example.com/'; // a one_factor rule in the test configuration
const KEY_PREFIX = `gh_cluster_${process.pid}:`;

describe('sessions in a Redis Cluster, two replicas', () => {
  let cluster: RedisClusterUnderTest;
  let a: TestGatehouse;
  let b: TestGatehouse;
  // Replicas share their storage as in production (PostgreSQL), and their sessions through the cluster.
  twoReplicas(onRedisCluster(KEY_PREFIX, 'postgres'), (up) => ({ cluster, a, b } = up));

  const cookieDomain = () => a.loaded.cookies.find((c) => c.domain === 'example.com')!;
  const allows = async (t: TestGatehouse, cookie: string) => (await authRequest(t, TARGET, { cookie })).status === 200;

  it('a session made on one replica authorises on the other, as its user', async () => {
    const john = await signIn(a, 'john');
    const res = await authRequest(b, TARGET, { cookie: john });
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'john');
    assert.equal((await authRequest(b, TARGET)).status, 401, 'an anonymous visitor is still sent to sign in');
  });

  it('signing out on one replica ends the session on the other', async () => {
    const harry = await signIn(b, 'harry');
    assert.ok(await allows(a, harry));
    const out = await request(a.url)
      .post('/api/logout')
      .set('Host', 'auth.example.com')
      .set('Origin', 'https://auth.example.com')
      .set('Cookie', harry);
    assert.equal(out.status, 200);
    assert.equal((await authRequest(b, TARGET, { cookie: harry })).status, 401);
    assert.equal((await authRequest(a, TARGET, { cookie: harry })).status, 401);
  });

  it('a level change (a new session ID) on one replica: the old ID is refused on both, the new one accepted', async () => {
    const john = await signIn(a, 'john');
    const id = john.slice(john.indexOf('=') + 1);
    const sessions = a.gatehouse.services.sessions;
    const current = await sessions.load([id], cookieDomain());
    assert.ok(current);
    const renewed = await sessions.regenerate({ ...current, data: { ...current.data, level: 2 } }, cookieDomain());
    assert.ok(renewed);
    assert.equal((await authRequest(b, TARGET, { cookie: john })).status, 401);
    assert.equal((await authRequest(a, TARGET, { cookie: john })).status, 401);
    assert.ok(await allows(b, `${cookieDomain().name}=${renewed.id}`));
  });

  it("`gatehouse sessions revoke` ends every session of the user on every replica, and nobody else's", async () => {
    const johns = [await signIn(a, 'john'), await signIn(b, 'john'), await signIn(a, 'john')];
    const harry = await signIn(b, 'harry');
    for (const cookie of [...johns, harry]) assert.ok((await allows(a, cookie)) && (await allows(b, cookie)));
    const res = await runCli(['sessions', 'revoke', 'john', '--config', a.configPath]);
    assert.equal(res.code, 0, res.stderr);
    // The sessions of the earlier tests that are still live count too (one from the first test, one regenerated).
    assert.match(res.stdout, /^Ended \d+ sessions of user 'john'\n$/);
    assert.ok(Number(/Ended (\d+)/.exec(res.stdout)![1]) >= johns.length);
    for (const cookie of johns) {
      assert.equal((await authRequest(a, TARGET, { cookie })).status, 401);
      assert.equal((await authRequest(b, TARGET, { cookie })).status, 401);
    }
    assert.ok((await allows(a, harry)) && (await allows(b, harry)));
    assert.ok(await allows(b, await signIn(a, 'john')), 'signing in again works as before');
  });

  it('session keys keep their single-node names and spread over all three primaries', async () => {
    const sessions = a.gatehouse.services.sessions;
    const made: Session[] = [];
    for (let i = 0; i < 60; i++) made.push(await sessions.create(anonymousData(), cookieDomain()));
    const primaries = (await cluster.clusterNodes()).filter((node) => node.primary && !node.failed);
    assert.equal(primaries.length, 3);
    const perPrimary = new Map<number, number>();
    for (const session of made) {
      const key = sessionStoreKey(KEY_PREFIX, session.id);
      assert.match(key, new RegExp(`^${KEY_PREFIX}session:[0-9a-f]{64}$`), 'no hash tag: the single-node name');
      const port = await cluster.primaryPortOf(key);
      assert.equal(await cluster.withNode(port, (r) => r.exists(key)), 1, 'the key is on the primary serving it');
      perPrimary.set(port, (perPrimary.get(port) ?? 0) + 1);
    }
    console.log(`60 sessions over the primaries: ${JSON.stringify(Object.fromEntries(perPrimary))}`);
    assert.equal(perPrimary.size, 3, 'every primary holds some sessions');
    for (const session of made) await sessions.destroy(session);
  });

  it("ending a user's sessions across slots wins over a regenerate racing with it, every time", async () => {
    const sessions = a.gatehouse.services.sessions;
    const cookie = cookieDomain();
    const rounds = 40;
    let renewedBeforeRevoke = 0;
    for (let round = 0; round < rounds; round++) {
      const username = `racer-${round}`;
      const listed = [
        await sessions.create(userData(username), cookie),
        await sessions.create(userData(username), cookie),
      ];
      // The revoke starts a little later each round, so it meets the regenerate at every step of its way.
      const [renewed] = await Promise.all([
        sessions.regenerate(listed[0]!, cookie),
        pause(round % 8).then(() => sessions.revokeUser(username)),
      ]);
      if (renewed !== undefined) renewedBeforeRevoke += 1;
      for (const session of [...listed, ...(renewed ? [renewed] : [])]) {
        assert.equal(
          await sessions.load([session.id], cookie),
          undefined,
          `round ${round}: a session of a revoked user is still live`,
        );
        assert.equal(
          await cluster.withNode(await cluster.primaryPortOf(key(session)), (r) => r.exists(key(session))),
          0,
        );
      }
    }
    console.log(
      `regenerate vs revoke: the regenerate got its new ID first in ${renewedBeforeRevoke} of ${rounds} rounds`,
    );
  });

  it('ending wins even when a regenerate runs whole between reading the index and deleting its keys', async () => {
    // The revocation is paused, on the real cluster, at the one point where the regenerate can take the old key
    // first; the random races above rarely land there.
    const redis = a.loaded.config.session.redis!;
    const store = createRedisSessionStore(redis);
    try {
      const service = new SessionService(store, { secret: a.loaded.config.session.secret!, keyPrefix: KEY_PREFIX });
      const cookie = cookieDomain();
      const username = 'paused-racer';
      const old = await service.create(userData(username), cookie);
      const client = store.client as Cluster;
      let renewed: Session | undefined;
      let paused = false;
      const pausedAfterRead = {
        zrange: async (indexKey: string, start: number, stop: string) => {
          const members = await client.zrange(indexKey, start, stop);
          if (!paused) {
            paused = true;
            renewed = await service.regenerate(old, cookie);
          }
          return members;
        },
        del: (k: string) => client.del(k),
        zrem: (k: string, ...members: string[]) => client.zrem(k, ...members),
      } as unknown as Pick<Cluster, 'zrange' | 'zrem' | 'del'>;
      const ended = await deleteIndexedAcrossSlots(
        pausedAfterRead,
        hashedStoreKey(KEY_PREFIX, 'user-sessions', username),
      );
      assert.ok(renewed, 'the regenerate took the old key before the revocation deleted it');
      assert.equal(await service.load([renewed.id], cookie), undefined, 'the renewed session is ended too');
      assert.equal(await service.load([old.id], cookie), undefined);
      assert.equal(ended, 1, 'the old key was already gone; the renewed one was ended');
    } finally {
      await store.close();
    }
  });
});

const key = (session: Session) => sessionStoreKey(KEY_PREFIX, session.id);

function pause(ticks: number): Promise<void> {
  let left = ticks;
  return new Promise((resolve) => {
    const step = () => (left-- <= 0 ? resolve() : setImmediate(step));
    step();
  });
}

function userData(username: string) {
  return {
    username,
    displayName: username,
    emails: [],
    groups: [],
    level: 1 as const,
    rememberMe: false,
  };
}

function anonymousData() {
  return { ...userData(''), level: 0 as const };
}
