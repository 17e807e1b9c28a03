import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { redisClientOptions, type RedisConfig } from '../../../src/session/redis-store.js';

const base: RedisConfig = {
  host: 'redis.internal',
  port: 6380,
  username: 'gate',
  password: 'pw',
  database_index: 3,
  key_prefix: 'gatehouse:',
  local_cache: { max_entries: 10_000, max_bytes: 16_777_216 },
};

describe('SPEC §3 session.redis as client options', () => {
  it('maps a standalone server and fails closed and fast', () => {
    const options = redisClientOptions(base);
    assert.equal(options.host, 'redis.internal');
    assert.equal(options.port, 6380);
    assert.equal(options.username, 'gate');
    assert.equal(options.password, 'pw');
    assert.equal(options.db, 3);
    assert.equal(options.tls, undefined);
    assert.equal(options.enableOfflineQueue, false);
    assert.ok(options.commandTimeout! <= 2_000);
    assert.ok(options.maxRetriesPerRequest! <= 1);
    assert.ok(
      typeof options.retryStrategy === 'function' && Number(options.retryStrategy(1_000)) > 0,
      'reconnects forever',
    );
    assert.equal(options.sentinels, undefined);
  });

  it('maps TLS: server name, verification and minimum version', () => {
    const options = redisClientOptions({
      ...base,
      tls: { server_name: 'redis.example.com', skip_verify: true, minimum_version: 'TLS1.3' },
    });
    assert.deepEqual(options.tls, {
      servername: 'redis.example.com',
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    });
    const defaults = redisClientOptions({
      ...base,
      tls: { server_name: '', skip_verify: false, minimum_version: 'TLS1.2' },
    });
    assert.deepEqual(defaults.tls, { servername: undefined, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
  });

  it('maps Sentinel: nodes, master name, sentinel credentials, and the same password for the data nodes', () => {
    const options = redisClientOptions({
      ...base,
      tls: { server_name: '', skip_verify: false, minimum_version: 'TLS1.2' },
      high_availability: {
        sentinel_name: 'mymaster',
        sentinel_password: 'spw',
        nodes: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
      },
    });
    assert.deepEqual(options.sentinels, [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
    ]);
    assert.equal(options.name, 'mymaster');
    assert.equal(options.sentinelPassword, 'spw');
    assert.equal(options.password, 'pw');
    assert.equal(options.enableTLSForSentinelMode, true);
    assert.deepEqual(options.sentinelTLS, options.tls);
    assert.equal(options.host, undefined);
  });
});
