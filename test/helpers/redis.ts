// A real Redis for tests: GATEHOUSE_TEST_REDIS_URL, else a local one on 6379, else a throwaway container when
// Docker answers. Each target gets its own key prefix, so test files can share one database.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { configSchema, type Config } from '../../src/config/schema.js';

export interface RedisTestTarget {
  url: string;
  /** A complete, parsed `session.redis` section pointing at the target, with a prefix unique to this target. */
  config: NonNullable<Config['session']['redis']>;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

const LOCAL_URL = 'redis://127.0.0.1:6379';

export async function redisTestTarget(): Promise<RedisTestTarget> {
  const url = process.env.GATEHOUSE_TEST_REDIS_URL ?? ((await answers(LOCAL_URL)) ? LOCAL_URL : await containerUrl());
  const config = configFromUrl(url, `gh_t_${process.pid}_${randomBytes(4).toString('hex')}:`);
  return { url, config, cleanup: () => deleteUnderPrefix(url, config.key_prefix) };
}

function configFromUrl(url: string, keyPrefix: string): RedisTestTarget['config'] {
  const parsed = new URL(url);
  const database = parsed.pathname.replace(/^\//, '');
  const redis = {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    database_index: database === '' ? 0 : Number(database),
    key_prefix: keyPrefix,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
  // Only the `session.redis` sub-schema: whole-config rules (required sections etc.) are not this helper's business.
  return configSchema.shape.session.unwrap().shape.redis.unwrap().parse(redis);
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

let container: Promise<string> | undefined;

/** One container per test process, reaped by testcontainers when the process exits. */
function containerUrl(): Promise<string> {
  container ??= (async () => {
    const { getContainerRuntimeClient } = await import('testcontainers');
    try {
      await getContainerRuntimeClient();
    } catch (error) {
      throw new Error('no Redis for tests: set GATEHOUSE_TEST_REDIS_URL, run one on 127.0.0.1:6379, or start Docker', {
        cause: error,
      });
    }
    const { RedisContainer } = await import('@testcontainers/redis');
    const started = await new RedisContainer('redis:7-alpine').start();
    return started.getConnectionUrl();
  })();
  return container;
}

async function deleteUnderPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
