// Issue 4 item 5, SPEC §3 `session.redis.high_availability`: sessions through Redis Sentinel survive a failover.
// A real primary, replica and three sentinels; the primary is killed; sessions written (and replicated) before
// keep authorising, new sign-ins work, and during the failover window no answer is a pass for an unknown visitor
// or a sign-in redirect for a valid session: only 200 (still served) or 503 (store unavailable).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, signIn } from '../../helpers/flows.js';
import { MASTER_NAME, startSentinelCluster, type SentinelCluster } from '../../helpers/sentinel.js';

const TARGET = 'https://app.example.com/'; // a one_factor rule in the test configuration
const KEY_PREFIX = 'gh_sentinel_test:';

describe('sessions through Redis Sentinel', () => {
  let cluster: SentinelCluster;
  let t: TestGatehouse;

  beforeAll(async () => {
    cluster = await startSentinelCluster();
    t = await startGatehouse({
      config: {
        session: {
          redis: { key_prefix: KEY_PREFIX, high_availability: { sentinel_name: MASTER_NAME, nodes: cluster.nodes } },
        },
      },
    });
  });

  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  it('connects to the primary the sentinels name, not to the unused host/port keys', async () => {
    assert.equal(t.loaded.config.session.redis?.high_availability?.sentinel_name, MASTER_NAME);
    const john = await signIn(t, 'john');
    const res = await authRequest(t, TARGET, { cookie: john });
    assert.equal(res.status, 200);
    assert.equal(res.headers['remote-user'], 'john');
    assert.equal(await cluster.reportedPrimaryPort(), cluster.primaryPort);
  });

  it("with no nodes listed, session.redis.host and port name the Sentinel, as Authelia's configuration does", async () => {
    const sentinel = cluster.nodes[1]!;
    const byHost = await startGatehouse({
      config: {
        session: {
          redis: {
            key_prefix: KEY_PREFIX,
            host: sentinel.host,
            port: sentinel.port,
            high_availability: { sentinel_name: MASTER_NAME },
          },
        },
      },
    });
    try {
      assert.deepEqual(byHost.loaded.config.session.redis?.high_availability?.nodes, [sentinel]);
      const john = await signIn(byHost, 'john');
      const res = await authRequest(byHost, TARGET, { cookie: john });
      assert.equal(res.status, 200);
      assert.equal(res.headers['remote-user'], 'john');
      // The session is in the primary the Sentinel named: the other Gatehouse, configured by nodes, accepts it too.
      assert.equal((await authRequest(t, TARGET, { cookie: john })).status, 200);
    } finally {
      await byHost.close();
    }
  });

  it('keeps replicated sessions and accepts new sign-ins after the primary fails over', async () => {
    const john = await signIn(t, 'john');
    // The session must be on the replica before the crash: asynchronous replication loses unreplicated writes.
    await cluster.waitForReplication();
    assert.ok((await cluster.replicaKeys(KEY_PREFIX)).length > 0, 'the replica holds the session keys');

    const seen: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const res = await authRequest(t, TARGET, { cookie: john });
        seen.push(res.status);
        if (res.status === 200) assert.equal(res.headers['remote-user'], 'john', 'a 200 must carry the session user');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    try {
      cluster.killPrimary();
      const newPrimary = await cluster.waitForFailover();
      assert.equal(newPrimary, cluster.replicaPort);
      // The client rediscovers the primary through the sentinels by itself; give it a few seconds.
      const deadline = Date.now() + 15_000;
      const recovered = () => seen.length > 0 && seen.at(-1) === 200;
      while (!recovered() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      polling = false;
      await poller;
    }

    const unexpected = seen.filter((status) => status !== 200 && status !== 503);
    assert.deepEqual(
      unexpected,
      [],
      `during the failover every answer is 200 or 503 (saw ${JSON.stringify(summary(seen))})`,
    );
    assert.equal(seen.at(-1), 200, 'the session written before the failover authorises again');

    const after = await authRequest(t, TARGET, { cookie: john });
    assert.equal(after.status, 200);
    assert.equal(after.headers['remote-user'], 'john');

    const harry = await signIn(t, 'harry');
    const fresh = await authRequest(t, TARGET, { cookie: harry });
    assert.equal(fresh.status, 200, 'a sign-in after the failover is stored on the new primary');
    assert.equal(fresh.headers['remote-user'], 'harry');

    const anonymous = await authRequest(t, TARGET);
    assert.equal(anonymous.status, 401, 'an anonymous visitor is still sent to sign in');
  });
});

/** Status counts in order of first appearance, for a readable failure message. */
function summary(statuses: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
