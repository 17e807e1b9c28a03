// Issue 11 §1 on the other Redis set-ups: a user's list of sessions, "Sign out" and "Sign out everywhere else" work
// the same on a Redis Cluster (the user's index and the sessions live in different slots: every command names one
// key) and behind Redis Sentinel, with two Gatehouse replicas.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, signIn } from '../../helpers/flows.js';
import { startRedisCluster, type RedisClusterUnderTest } from '../../helpers/redis-cluster.js';
import { MASTER_NAME, startSentinelCluster, type SentinelCluster } from '../../helpers/sentinel.js';

const TARGET = 'https://app.example.com/';

function api(t: TestGatehouse, method: 'get' | 'post', path: string, cookie: string, body?: unknown) {
  const req = request(t.url)[method](path).set('Host', 'auth.example.com').set('Cookie', cookie);
  if (method === 'post') req.set('Origin', 'https://auth.example.com');
  return body === undefined ? req : req.set('Content-Type', 'application/json').send(JSON.stringify(body));
}

/**
 * The authz answer for `cookie` once it is `status`, asking again for up to a generous bound: another replica's cache
 * hears of the change through Redis, a moment after the replica that made it has answered.
 */
async function eventually(t: TestGatehouse, cookie: string, status: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const got = (await authRequest(t, TARGET, { cookie })).status;
    if (got === status || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The shared scenario: three sessions of john over two replicas; end one by handle, then every other. */
async function scenario(a: TestGatehouse, b: TestGatehouse): Promise<void> {
  const keep = await signIn(a, 'john');
  const one = await signIn(b, 'john');
  const two = await signIn(a, 'john');
  const listed = (await api(b, 'get', '/api/sessions', keep)).body as {
    data: { sessions: { handle: string; current: boolean }[] };
  };
  assert.equal(listed.data.sessions.length, 3);
  const mine = (await api(b, 'get', '/api/sessions', one)).body as typeof listed;
  const oneHandle = mine.data.sessions.find((s) => s.current)!.handle;

  assert.equal((await api(a, 'post', '/api/sessions/end', keep, { handle: oneHandle })).status, 200);
  assert.equal(await eventually(b, one, 401), 401);
  assert.equal((await authRequest(a, TARGET, { cookie: one })).status, 401);

  const res = await api(b, 'post', '/api/sessions/end-others', keep);
  assert.equal(res.status, 200);
  assert.equal((res.body as { data: { ended: number } }).data.ended, 1);
  assert.equal(await eventually(a, two, 401), 401);
  assert.equal(await eventually(b, two, 401), 401);
  assert.equal((await authRequest(b, TARGET, { cookie: keep })).status, 200);
  const left = (await api(a, 'get', '/api/sessions', keep)).body as typeof listed;
  assert.deepEqual(
    left.data.sessions.map((s) => s.current),
    [true],
  );
}

describe('issue 11 §1: sessions listed and ended on a Redis Cluster, two replicas', () => {
  let cluster: RedisClusterUnderTest;
  let a: TestGatehouse;
  let b: TestGatehouse;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const config = { session: { redis: { key_prefix: 'gh_list_cluster:', cluster: { nodes: cluster.nodes } } } };
    a = await startGatehouse({ config });
    b = await startGatehouse({ config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.stop();
  });

  it('lists, ends one and ends every other session across replicas', async () => {
    await scenario(a, b);
  });
});

describe('issue 11 §1: sessions listed and ended behind Redis Sentinel, two replicas', () => {
  let sentinel: SentinelCluster;
  let a: TestGatehouse;
  let b: TestGatehouse;

  beforeAll(async () => {
    sentinel = await startSentinelCluster();
    const config = {
      session: {
        redis: {
          key_prefix: 'gh_list_sentinel:',
          high_availability: { sentinel_name: MASTER_NAME, nodes: sentinel.nodes },
        },
      },
    };
    a = await startGatehouse({ config });
    b = await startGatehouse({ config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sentinel?.stop();
  });

  it('lists, ends one and ends every other session across replicas', async () => {
    await scenario(a, b);
  });
});
