// Two Gatehouse replicas on one shared back end (a Redis, a Redis Cluster, Sentinel; PostgreSQL where asked), for a
// describe block: what one replica does, the other must see.
import { beforeAll, afterAll } from '@jest/globals';
import { startGatehouse, type StartOptions, type TestGatehouse } from './gatehouse.js';
import { postgresTestTarget, type PostgresTestTarget } from './postgres.js';
import { redisTestTarget, type RedisTestTarget } from './redis.js';
import { startRedisCluster, type RedisClusterUnderTest } from './redis-cluster.js';
import { MASTER_NAME, startSentinelCluster, type SentinelCluster } from './sentinel.js';

/** What the replicas share: the options that point each of them at it, and how to stop it once they are closed. */
export interface SharedBackEnd {
  options: StartOptions;
  stop(): Promise<void>;
}

/** Starts a back end when the block's tests are about to run. */
export type BackEndStart<S extends SharedBackEnd> = () => Promise<S>;

export interface TwoReplicas {
  a: TestGatehouse;
  b: TestGatehouse;
}

/**
 * Starts the back end, then replicas a and b on it, before the block's tests, and hands all of it to `started`;
 * after the tests, closes a, b, then the back end (whatever of them started).
 */
export function twoReplicas<S extends SharedBackEnd>(
  start: BackEndStart<S>,
  started: (up: S & TwoReplicas) => void,
): void {
  let shared: S | undefined;
  let a: TestGatehouse | undefined;
  let b: TestGatehouse | undefined;
  beforeAll(async () => {
    shared = await start();
    a = await startGatehouse(shared.options);
    b = await startGatehouse(shared.options);
    started({ ...shared, a, b });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await shared?.stop();
  });
}

/** One real Redis, under a key prefix of its own; `config` goes into both replicas' configuration. */
export function onRedis(config?: Record<string, unknown>): BackEndStart<SharedBackEnd & { redis: RedisTestTarget }> {
  return async () => {
    const redis = await redisTestTarget();
    return { redis, options: { sessions: 'redis', redis, config }, stop: () => redis.cleanup() };
  };
}

/**
 * A Redis Cluster of the test's own holding the sessions under `keyPrefix`; with `storage`, the replicas also share
 * a PostgreSQL database, as in production.
 */
export function onRedisCluster(
  keyPrefix: string,
  storage?: 'postgres',
): BackEndStart<SharedBackEnd & { cluster: RedisClusterUnderTest }> {
  return async () => {
    const cluster = await startRedisCluster();
    let postgres: PostgresTestTarget | undefined;
    try {
      postgres = storage === 'postgres' ? await postgresTestTarget() : undefined;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    const config = { session: { redis: { key_prefix: keyPrefix, cluster: { nodes: cluster.nodes } } } };
    return {
      cluster,
      options: { config, storage, postgres },
      async stop() {
        await postgres?.cleanup();
        await cluster.stop();
      },
    };
  };
}

/** A Sentinel deployment of the test's own holding the sessions under `keyPrefix`. */
export function onSentinel(keyPrefix: string): BackEndStart<SharedBackEnd & { sentinel: SentinelCluster }> {
  return async () => {
    const sentinel = await startSentinelCluster();
    const config = {
      session: {
        redis: { key_prefix: keyPrefix, high_availability: { sentinel_name: MASTER_NAME, nodes: sentinel.nodes } },
      },
    };
    return { sentinel, options: { config }, stop: () => sentinel.stop() };
  };
}
