// Issue 10 §3: `session.redis.cluster` in the configuration: what is accepted, what is refused and why, and the
// client options it gives (no Redis needed).
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { loadContent, problemAt, problemsOf, withMinimal } from '../../unit/config/config-files.js';
import {
  describeRedisTarget,
  isRedisCluster,
  redisClientOptions,
  type RedisConfig,
} from '../../../src/session/redis-store.js';
import { clusterClientSetup } from '../../../src/session/redis-cluster.js';

const SECRETS = {
  identity_validation: { jwt_secret: 'a-test-jwt-secret-that-is-long-enough-for-hs256' },
  storage: { postgres: { address: 'tcp://127.0.0.1:5432', password: 'x' } },
};
const NODES = [
  { host: 'redis-0.example.net', port: 7000 },
  { host: 'redis-1.example.net', port: 7001 },
];

function withRedis(redis: Record<string, unknown>) {
  return withMinimal({ ...SECRETS, session: { secret: 'a-test-session-secret-of-at-least-32-chars', redis } });
}

const loadRedis = (redis: Record<string, unknown>): RedisConfig => loadContent(withRedis(redis)).config.session.redis!;

describe('session.redis.cluster: configuration', () => {
  it('is accepted with nodes, credentials, TLS and a key prefix from session.redis', () => {
    const redis = loadRedis({
      username: 'gatehouse',
      password: 'secret',
      key_prefix: 'sso:',
      tls: { server_name: 'redis.example.net' },
      cluster: { nodes: [...NODES, { host: 'redis-2.example.net' }] },
    });
    assert.equal(isRedisCluster(redis), true);
    assert.deepEqual(redis.cluster?.nodes.at(-1), { host: 'redis-2.example.net', port: 6379 }, 'port defaults to 6379');
    assert.equal(
      describeRedisTarget(redis),
      'Redis Cluster (redis-0.example.net:7000, redis-1.example.net:7001, redis-2.example.net:6379)',
    );
  });

  it('is refused together with high_availability (Sentinel)', () => {
    const problems = problemsOf(() =>
      loadContent(
        withRedis({ cluster: { nodes: NODES }, high_availability: { sentinel_name: 'mymaster', nodes: NODES } }),
      ),
    );
    assert.match(problemAt(problems, 'session.redis').message, /one of cluster or high_availability/);
  });

  it('is refused with a database_index other than 0, saying a cluster has only database 0', () => {
    const problems = problemsOf(() => loadContent(withRedis({ cluster: { nodes: NODES }, database_index: 2 })));
    assert.match(problemAt(problems, 'session.redis.database_index').message, /must be 0 with cluster/);
  });

  it('is refused with a key prefix holding a hash tag, which would put every key in one slot', () => {
    const problems = problemsOf(() => loadContent(withRedis({ cluster: { nodes: NODES }, key_prefix: '{sso}:' })));
    assert.match(problemAt(problems, 'session.redis.key_prefix').message, /one hash slot/);
  });

  it('is refused without any node', () => {
    const problems = problemsOf(() => loadContent(withRedis({ cluster: { nodes: [] } })));
    assert.match(problemAt(problems, 'session.redis.cluster.nodes').message, /at least one node/);
  });

  it('leaves single-node and Sentinel settings as they were', () => {
    const single = loadRedis({ host: 'redis.example.net', port: 6380, database_index: 3, key_prefix: '{x}:' });
    assert.equal(isRedisCluster(single), false);
    assert.equal(describeRedisTarget(single), 'Redis at redis.example.net:6380');
    const options = redisClientOptions(single);
    assert.equal(options.host, 'redis.example.net');
    assert.equal(options.db, 3);
    assert.equal(options.enableOfflineQueue, false);
  });
});

describe('session.redis.cluster: client options', () => {
  const redis = () => loadRedis({ username: 'gatehouse', password: 'secret', tls: {}, cluster: { nodes: NODES } });

  it('opens no single-node connection to the unused host and port', () => {
    assert.throws(() => redisClientOptions(redis()), /Cluster client, not one node/);
  });

  it('fails fast like the single-node client: no offline queue, bounded retries, reads from primaries', () => {
    const setup = clusterClientSetup(redis(), { username: 'gatehouse', commandTimeout: 1000 }, () => 100);
    assert.deepEqual(setup.nodes, NODES);
    assert.equal(setup.options.enableOfflineQueue, false);
    assert.equal(setup.options.scaleReads, 'master');
    assert.equal(setup.options.redisOptions?.username, 'gatehouse');
    const worstRetryMs = (setup.options.maxRedirections ?? 0) * (setup.options.retryDelayOnFailover ?? 0);
    assert.ok(worstRetryMs > 0 && worstRetryMs <= 2000, `a command retries for at most 2 s during a failover`);
  });
});
