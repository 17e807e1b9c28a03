// A real Gatehouse whose paths to Redis and PostgreSQL run through relays, so outage tests can cut, hang and
// restore each one (fail-closed and outage-logging tests share this set-up).
import { startGatehouse, type StartOptions, type TestGatehouse } from './gatehouse.js';
import { redisTestTarget } from './redis.js';
import { postgresTestTarget } from './postgres.js';
import { Relay } from './relay.js';

export interface BehindRelays {
  t: TestGatehouse;
  redisRelay: Relay;
  pgRelay: Relay;
  /** Closes Gatehouse, both relays and the test's Redis prefix and PostgreSQL schema. */
  close(): Promise<void>;
}

export async function startBehindRelays(
  options: Omit<StartOptions, 'sessions' | 'storage' | 'redis' | 'postgres'> = {},
): Promise<BehindRelays> {
  const redis = await redisTestTarget();
  const postgres = await postgresTestTarget();
  const redisRelay = new Relay({ host: redis.config.host, port: redis.config.port });
  const pgRelay = new Relay(postgres.config.address);
  await redisRelay.start();
  await pgRelay.start();
  const t = await startGatehouse({
    ...options,
    sessions: 'redis',
    storage: 'postgres',
    redis: { ...redis, config: { ...redis.config, port: redisRelay.port, host: '127.0.0.1' } },
    postgres: { ...postgres, config: { ...postgres.config, address: { host: '127.0.0.1', port: pgRelay.port } } },
  });
  return {
    t,
    redisRelay,
    pgRelay,
    async close() {
      await t.close();
      await redisRelay.cut();
      await pgRelay.cut();
      await redis.cleanup();
      await postgres.cleanup();
    },
  };
}
