// SPEC §3 `session.redis.high_availability`, as Authelia reads it: with no Sentinel listed in `nodes`,
// `session.redis.host` and `port` (26379 unless given) are the one Sentinel; with nodes listed, they are the Sentinels
// and host and port are not used; with neither, start-up stops at the key (src/config/sentinel-host.ts).
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { loadContent, problemAt, problemsOf, withMinimal } from './config-files.js';

const SECRET = 'a-session-secret-of-enough-length-0123456789';

function withRedis(redis: Record<string, unknown>) {
  return withMinimal({
    identity_validation: { jwt_secret: SECRET },
    session: { secret: SECRET, redis: { key_prefix: 'gh:', ...redis } },
  });
}

const nodesOf = (redis: Record<string, unknown>) =>
  loadContent(withRedis(redis)).config.session.redis?.high_availability?.nodes;

describe('Sentinel addresses', () => {
  it('host alone is the one Sentinel, on port 26379', () => {
    assert.deepEqual(nodesOf({ host: 'sentinel.internal', high_availability: { sentinel_name: 'mymaster' } }), [
      { host: 'sentinel.internal', port: 26379 },
    ]);
  });

  it('host and port are the one Sentinel when nodes is empty', () => {
    const redis = { host: 'sentinel.internal', port: 26380, high_availability: { sentinel_name: 'm', nodes: [] } };
    assert.deepEqual(nodesOf(redis), [{ host: 'sentinel.internal', port: 26380 }]);
  });

  it('listed nodes are the Sentinels; host and port are not used (as SPEC §3 pairs them with the data port)', () => {
    const redis = {
      host: '127.0.0.1',
      port: 6379,
      high_availability: { sentinel_name: 'm', nodes: [{ host: 's1.internal' }, { host: 's2.internal', port: 26380 }] },
    };
    assert.deepEqual(nodesOf(redis), [
      { host: 's1.internal', port: 26379 },
      { host: 's2.internal', port: 26380 },
    ]);
  });

  it('no host and no nodes: start-up stops at the nodes key, saying where a Sentinel goes', () => {
    const problems = problemsOf(() => loadContent(withRedis({ high_availability: { sentinel_name: 'mymaster' } })));
    assert.match(problemAt(problems, 'session.redis.high_availability.nodes').message, /session\.redis\.host/);
  });

  it('a port of the wrong type is named at session.redis.port, not moved into the nodes', () => {
    const redis = { host: 'sentinel.internal', port: 'many', high_availability: { sentinel_name: 'm' } };
    const problems = problemsOf(() => loadContent(withRedis(redis)));
    assert.ok(problemAt(problems, 'session.redis.port'));
    assert.ok(!problems.some((problem) => problem.path.includes('nodes')));
  });

  it('without high_availability, host and port are the Redis server, as before', () => {
    const { config } = loadContent(withRedis({ host: 'redis.internal', port: 6380 }));
    assert.equal(config.session.redis?.host, 'redis.internal');
    assert.equal(config.session.redis?.port, 6380);
    assert.equal(config.session.redis?.high_availability, undefined);
  });
});
