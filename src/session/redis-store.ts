// The Redis SessionStore (standalone, Sentinel or Cluster). It fails closed and fast: while Redis cannot answer, every
// call rejects within about two seconds with SessionStoreUnavailableError (answered 5xx, never "signed out",
// SPEC §4), and the client keeps reconnecting in the background so the gate recovers by itself.
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { SessionStoreUnavailableError } from '../observability/backend-errors.js';
import type { SessionStore } from './store.js';
import { minimumTlsVersion } from '../config/tls.js';
import type { OutageReporter } from '../observability/outages.js';
import { clusterClientSetup, deleteIndexedAcrossSlots, type NodeOptions } from './redis-cluster.js';

export type RedisConfig = NonNullable<Config['session']['redis']>;
export type RedisStoreLogger = Pick<Logger, 'warn' | 'info'>;

/**
 * A reply later than this is treated as "store down": a proxy subrequest must not hang. Half the ~2 s promised:
 * with auto-pipelining, a command issued while a hung pipeline is in flight is sent only once that one times out,
 * so the worst wait is twice this.
 */
const COMMAND_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

const reconnectDelay = (attempt: number): number => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);
/** Redis counts PX in whole milliseconds, and 0 is an error: round up to at least one. */
const ttlMillis = (ttlSeconds: number): number => Math.max(1, Math.ceil(ttlSeconds * 1000));

// Compare-then-act must be one step in Redis itself, or another replica could take the key in between.
const DELETE_IF_EQUALS =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
// The set drops members past their time, and expires with its last member, so it never outlives the sessions.
const INDEX_ADD =
  "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3]) redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES') redis.call('PEXPIREAT', KEYS[1], last[2]) return 1";
// The set and every key in it deleted in one step, so a regenerate (take the old key, keep the new one listed) racing
// with it loses either way. The member keys are not declared, which only a single node allows: on a cluster they
// are in other slots, and `deleteIndexedAcrossSlots` does this in rounds instead.
const DELETE_INDEXED =
  "local members = redis.call('ZRANGE', KEYS[1], 0, -1) redis.call('DEL', KEYS[1]) local n = 0 for _, key in ipairs(members) do n = n + redis.call('DEL', key) end return n";
// Members past their time are dropped before the rest is read (one key: a cluster takes it too).
const INDEX_MEMBERS =
  "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) return redis.call('ZRANGE', KEYS[1], 0, -1)";
const EXPIRE_IF_EQUALS =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

export interface RedisSessionStore extends SessionStore {
  /** The underlying client (a Cluster with `session.redis.cluster`), for the benchmark and tests; the store owns its lifecycle. */
  readonly client: Redis | Cluster;
}

/** Whether sessions live in a Redis Cluster: there is then no single node to open a connection to. */
export function isRedisCluster(config: RedisConfig): boolean {
  return config.cluster !== undefined;
}

/** Where the store is, for messages (never credentials). */
export function describeRedisTarget(config: RedisConfig): string {
  if (config.cluster) return `Redis Cluster (${config.cluster.nodes.map((n) => `${n.host}:${n.port}`).join(', ')})`;
  if (config.high_availability) return `Redis Sentinel master '${config.high_availability.sentinel_name}'`;
  return `Redis at ${config.host}:${config.port}`;
}

function tlsOptions(tls: RedisConfig['tls']): ConnectionOptions | undefined {
  if (tls === undefined) return undefined;
  return {
    servername: tls.server_name === '' ? undefined : tls.server_name,
    rejectUnauthorized: !tls.skip_verify,
    minVersion: minimumTlsVersion(tls),
  };
}

/** What every connection shares, single node or cluster node: credentials, TLS, timeouts, its name. */
function connectionOptions(config: RedisConfig): NodeOptions {
  return {
    username: config.username,
    password: config.password,
    tls: tlsOptions(config.tls),
    // Commands issued in the same event-loop tick (concurrent authz calls) go out in one write: fewer syscalls on the
    // hot path, same answers.
    enableAutoPipelining: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    connectionName: 'gatehouse',
  };
}

/**
 * ioredis options from the config, for one Redis (standalone or the Sentinel master). `key_prefix` is not used
 * here: the SessionService puts it in the key itself, since the key is also the encryption's associated data.
 * `maximum_active_connections` has no meaning for ioredis, which pipelines every command over one connection.
 * A cluster has no one node to connect to: `session.redis.cluster` throws here rather than connect to the unused
 * host and port (check `isRedisCluster` first).
 */
export function redisClientOptions(config: RedisConfig): RedisOptions {
  if (isRedisCluster(config))
    throw new Error('session.redis.cluster: a Redis Cluster is reached through the Cluster client, not one node');
  const common: RedisOptions = {
    ...connectionOptions(config),
    db: config.database_index,
    enableOfflineQueue: false,
    // Never give up reconnecting: the gate must come back without a restart once Redis does.
    retryStrategy: reconnectDelay,
  };
  const sentinel = config.high_availability;
  if (sentinel === undefined) return { ...common, host: config.host, port: config.port };
  return {
    ...common,
    name: sentinel.sentinel_name,
    sentinels: sentinel.nodes.map((node) => ({ host: node.host, port: node.port })),
    sentinelUsername: sentinel.sentinel_username,
    sentinelPassword: sentinel.sentinel_password,
    sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
    sentinelRetryStrategy: reconnectDelay,
    enableTLSForSentinelMode: common.tls !== undefined,
    sentinelTLS: common.tls,
  };
}

/**
 * ioredis options for a connection of our own to one node of the cluster (the session cache's invalidation feed on
 * each primary): the same credentials, TLS and timeouts as the store's node connections, reconnecting without end.
 */
export function clusterNodeClientOptions(config: RedisConfig, node: { host: string; port: number }): RedisOptions {
  return {
    ...connectionOptions(config),
    host: node.host,
    port: node.port,
    enableOfflineQueue: false,
    retryStrategy: reconnectDelay,
  };
}

function openClient(config: RedisConfig): Redis | Cluster {
  if (!isRedisCluster(config)) return new Redis(redisClientOptions(config));
  const { nodes, options } = clusterClientSetup(config, connectionOptions(config), reconnectDelay);
  return new Cluster(nodes, options);
}

class IoRedisSessionStore implements RedisSessionStore {
  readonly client: Redis | Cluster;
  /** Pending until the first connection attempt ends either way; calls made during start-up wait for it. */
  #firstAttempt: Promise<void> | undefined;
  #closing = false;

  constructor(config: RedisConfig, logger?: RedisStoreLogger, outage?: OutageReporter) {
    this.client = openClient(config);
    this.#firstAttempt = this.#settleOnFirstAttempt();
    if (outage) this.#reportConnectionChanges(outage);
    else this.#logConnectionChanges(logger);
  }

  get(key: string): Promise<string | null> {
    return this.#run(() => this.client.get(key));
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0)) return this.delete(key);
    await this.#run(() => this.client.set(key, value, 'PX', ttlMillis(ttlSeconds)));
  }

  async delete(key: string): Promise<void> {
    await this.#run(() => this.client.del(key));
  }

  async replace(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (!(ttlSeconds > 0)) {
      await this.delete(key);
      return true;
    }
    return (await this.#run(() => this.client.set(key, value, 'PX', ttlMillis(ttlSeconds), 'XX'))) === 'OK';
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.#run(() => this.client.set(key, value, 'PX', ttlMillis(ttlSeconds), 'NX'))) === 'OK';
  }

  take(key: string): Promise<string | null> {
    return this.#run(() => this.client.getdel(key));
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    return (await this.#run(() => this.client.eval(DELETE_IF_EQUALS, 1, key, value))) === 1;
  }

  async expireIfEquals(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.#run(() => this.client.eval(EXPIRE_IF_EQUALS, 1, key, value, ttlMillis(ttlSeconds)))) === 1;
  }

  async indexAdd(indexKey: string, member: string, expiresAtMs: number): Promise<void> {
    await this.#run(() => this.client.eval(INDEX_ADD, 1, indexKey, member, Math.ceil(expiresAtMs), Date.now()));
  }

  async indexRemove(indexKey: string, member: string): Promise<void> {
    await this.#run(() => this.client.zrem(indexKey, member));
  }

  async indexMembers(indexKey: string): Promise<string[]> {
    return (await this.#run(() => this.client.eval(INDEX_MEMBERS, 1, indexKey, Date.now()))) as string[];
  }

  async deleteIndexed(indexKey: string): Promise<number> {
    const client = this.client;
    if (client instanceof Cluster) return this.#run(() => deleteIndexedAcrossSlots(client, indexKey));
    return (await this.#run(() => client.eval(DELETE_INDEXED, 1, indexKey))) as number;
  }

  async ping(): Promise<void> {
    await this.#run(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.#closing = true;
    try {
      await this.client.quit();
    } catch {
      // Not connected: quitting is impossible, so stop the reconnection loop instead.
      this.client.disconnect();
    }
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      if (this.#firstAttempt !== undefined) await this.#firstAttempt;
      return await command();
    } catch (error) {
      throw new SessionStoreUnavailableError(error);
    }
  }

  /**
   * Without an offline queue, a call made before the first connection is ready would fail although Redis is fine;
   * so only the very first attempt is waited for, and at most one connect timeout.
   */
  #settleOnFirstAttempt(): Promise<void> {
    return new Promise<void>((resolve) => {
      const settle = () => {
        clearTimeout(timer);
        this.client.off('ready', settle).off('error', settle).off('end', settle);
        this.#firstAttempt = undefined;
        resolve();
      };
      const timer = setTimeout(settle, CONNECT_TIMEOUT_MS + 500);
      timer.unref();
      this.client.once('ready', settle).once('error', settle).once('end', settle);
    });
  }

  /** In a server, the outage log tells connection losses and recoveries, once each, with the requests' 503s. */
  #reportConnectionChanges(outage: OutageReporter): void {
    this.client.on('error', (error: Error) => outage.unavailable(error));
    this.client.on('ready', () => outage.available());
  }

  #logConnectionChanges(logger: RedisStoreLogger | undefined): void {
    // The 'error' listener is also what keeps an error event from crashing the process. Each distinct failure is
    // logged once per outage (the client retries every few hundred ms); messages name host and port, never
    // credentials.
    let up = false;
    let outage = false;
    let lastError: string | undefined;
    this.client.on('error', (error: Error & { code?: string }) => {
      outage = true;
      if (error.message === lastError) return;
      lastError = error.message;
      logger?.warn({ err: { message: error.message, code: error.code } }, 'session store (redis) unavailable');
    });
    this.client.on('close', () => {
      if (up && !this.#closing) {
        logger?.warn('session store (redis) connection lost');
        outage = true;
      }
      up = false;
    });
    this.client.on('ready', () => {
      if (outage) logger?.info('session store (redis) available again');
      up = true;
      outage = false;
      lastError = undefined;
    });
  }
}

/** `outage`: where connection losses and recoveries are told (the server's outage log); else `logger`. */
export function createRedisSessionStore(
  config: RedisConfig,
  logger?: RedisStoreLogger,
  outage?: OutageReporter,
): RedisSessionStore {
  return new IoRedisSessionStore(config, logger, outage);
}
