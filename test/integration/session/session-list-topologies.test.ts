// Issue 11 §1 on the other Redis set-ups: a user's list of sessions, "Sign out" and "Sign out everywhere else" work
// the same on a Redis Cluster (the user's index and the sessions live in different slots: every command names one
// key) and behind Redis Sentinel, with two Gatehouse replicas.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, eventualAuthz, signIn } from '../../helpers/flows.js';
import {
  type BackEndStart,
  onRedisCluster,
  onSentinel,
  type SharedBackEnd,
  twoReplicas,
} from '../../helpers/two-replicas.js';

const TARGET = 'https://app.example.com/';

function api(t: TestGatehouse, method: 'get' | 'post', path: string, cookie: string, body?: unknown) {
  const req = request(t.url)[method](path).set('Host', 'auth.example.com').set('Cookie', cookie);
  if (method === 'post') req.set('Origin', 'https://auth.example.com');
  return body === undefined ? req : req.set('Content-Type', 'application/json').send(JSON.stringify(body));
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
  assert.equal(await eventualAuthz(b, TARGET, one, 401), 401);
  assert.equal((await authRequest(a, TARGET, { cookie: one })).status, 401);

  const res = await api(b, 'post', '/api/sessions/end-others', keep);
  assert.equal(res.status, 200);
  assert.equal((res.body as { data: { ended: number } }).data.ended, 1);
  assert.equal(await eventualAuthz(a, TARGET, two, 401), 401);
  assert.equal(await eventualAuthz(b, TARGET, two, 401), 401);
  assert.equal((await authRequest(b, TARGET, { cookie: keep })).status, 200);
  const left = (await api(a, 'get', '/api/sessions', keep)).body as typeof listed;
  assert.deepEqual(
    left.data.sessions.map((s) => s.current),
    [true],
  );
}

/** Each set-up: its block's title, and its back end with a key prefix of its own. */
const topologies: [title: string, backEnd: BackEndStart<SharedBackEnd>][] = [
  ['issue 11 §1: sessions listed and ended on a Redis Cluster, two replicas', onRedisCluster('gh_list_cluster:')],
  ['issue 11 §1: sessions listed and ended behind Redis Sentinel, two replicas', onSentinel('gh_list_sentinel:')],
];

for (const [title, backEnd] of topologies) {
  describe(title, () => {
    let a: TestGatehouse;
    let b: TestGatehouse;
    twoReplicas(backEnd, (up) => ({ a, b } = up));

    it('lists, ends one and ends every other session across replicas', async () => {
      await scenario(a, b);
    });
  });
}
