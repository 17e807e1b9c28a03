// The invalidation feed that keeps the session cache honest: Redis itself reports every change of a session key,
// whoever made it (another replica, `gatehouse sessions revoke`, redis-cli, expiry, eviction, FLUSHALL), through
// RESP2 client tracking in broadcast mode with REDIRECT (docs/decisions.md, "Session cache (issue 10)"):
//   - a subscriber connection: CLIENT ID, then SUBSCRIBE __redis__:invalidate;
//   - a tracking connection: CLIENT TRACKING on REDIRECT <subscriber id> BCAST PREFIX <prefix>session:
// The cache is trusted only while both connections are up, the subscription is confirmed and tracking is on; any
// close, error or unanswered heartbeat drops the cache until all of that is true again.
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** What the feed drives (the SessionCache). */
export interface InvalidationSink {
  invalidate(keys: readonly string[]): void;
  /** Every key may have changed (FLUSHALL / FLUSHDB). */
  reset(): void;
  setTrusted(trusted: boolean): void;
}

export type InvalidationLogger = Pick<Logger, 'info' | 'warn'>;

/** A feed as main.ts holds it: one node's (below) or a cluster's, one per primary (cluster-invalidation.ts). */
export interface InvalidationFeed {
  /** Whether the cache may currently answer without Redis. */
  readonly trusted: boolean;
  start(): void;
  close(): Promise<void>;
}

const CHANNEL = '__redis__:invalidate';
/**
 * A hung path (no FIN, nothing delivered) is noticed by a heartbeat on both connections: a PING answered on the
 * subscriber proves every invalidation Redis sent before it has arrived (one connection, in order). Worst case
 * between a hang and the cache being dropped: about interval + timeout.
 */
const HEARTBEAT_INTERVAL_MS = 250;
const HEARTBEAT_TIMEOUT_MS = 500;
/**
 * Redis refused a step (too old for CLIENT TRACKING, an ACL without CLIENT or SUBSCRIBE): try again this much later
 * rather than reconnecting in a tight loop. The cache stays off meanwhile, so every load reads Redis, as before.
 */
const RETRY_AFTER_REFUSAL_MS = 10_000;

export interface InvalidationFeedOptions {
  /** The session store's connection options (`redisClientOptions(config)`): same server, credentials and TLS. */
  redis: RedisOptions;
  /** The prefix of every session key (`<key_prefix>session:`). */
  prefix: string;
  sink: InvalidationSink;
  logger?: InvalidationLogger;
}

export class RedisInvalidationFeed implements InvalidationFeed {
  readonly #subscriber: Redis;
  readonly #tracker: Redis;
  readonly #prefix: string;
  readonly #sink: InvalidationSink;
  readonly #logger: InvalidationLogger | undefined;
  /** Bumped on every event of each connection: an establishment step that straddles one is abandoned. */
  readonly #generation = new Map<Redis, number>();
  /** The subscriber's client ID once its subscription is confirmed on the current connection. */
  #subscriberId: number | undefined;
  #trusted = false;
  /** Whether the loss of the feed was already logged (once per outage). */
  #downLogged = false;
  #refusalLogged = false;
  #tracking: Promise<void> = Promise.resolve();
  #heartbeat: NodeJS.Timeout | undefined;
  #beating = false;
  #closing = false;

  constructor(options: InvalidationFeedOptions) {
    this.#prefix = options.prefix;
    this.#sink = options.sink;
    this.#logger = options.logger;
    const dedicated: RedisOptions = {
      ...options.redis,
      // RESP2: the subscriber has its own connection, to which the tracking connection redirects.
      protocol: 2,
      enableAutoPipelining: false,
      enableOfflineQueue: false,
      // Re-subscribing and re-sending are done here, in order (CLIENT ID before SUBSCRIBE), not by the client.
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: HEARTBEAT_TIMEOUT_MS,
      lazyConnect: true,
    };
    this.#subscriber = new Redis({ ...dedicated, connectionName: 'gatehouse-invalidation' });
    this.#tracker = new Redis({ ...dedicated, connectionName: 'gatehouse-tracking' });
    this.#subscriber.on('messageBuffer', (channel: Buffer, keys: unknown) => this.#onMessage(channel, keys));
    for (const [name, connection] of [
      ['subscriber', this.#subscriber],
      ['tracking', this.#tracker],
    ] as const) {
      connection.on('ready', () => {
        if (connection === this.#subscriber) void this.#subscribe();
        else void this.#enableTracking();
      });
      connection.on('error', (error: Error) => this.#down(connection, `${name} connection error: ${error.message}`));
      connection.on('close', () => this.#down(connection, `${name} connection closed`));
    }
  }

  /** Whether the cache may currently answer without Redis (tests and the bench read it). */
  get trusted(): boolean {
    return this.#trusted;
  }

  start(): void {
    for (const connection of [this.#subscriber, this.#tracker]) connection.connect().catch(() => undefined);
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_INTERVAL_MS);
    this.#heartbeat.unref();
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    this.#setTrusted(false);
    await Promise.allSettled(
      [this.#subscriber, this.#tracker].map(async (connection) => {
        try {
          await connection.quit();
        } catch {
          connection.disconnect();
        }
      }),
    );
  }

  #onMessage(channel: Buffer, keys: unknown): void {
    if (channel.toString() !== CHANNEL) return;
    // A null key list is Redis's word for "everything" (FLUSHALL, FLUSHDB).
    if (keys === null || keys === undefined) this.#sink.reset();
    else if (Array.isArray(keys)) this.#sink.invalidate(keys.map(String));
    else this.#sink.invalidate([String(keys)]);
  }

  /** Any sign that an invalidation may have been missed: distrust until everything is re-established. */
  #down(connection: Redis, reason: string): void {
    this.#generation.set(connection, this.#generationOf(connection) + 1);
    // The subscription lives and dies with the subscriber's connection; tracking is redone whenever it comes back.
    if (connection === this.#subscriber) this.#subscriberId = undefined;
    if (this.#closing) return;
    if (this.#trusted && !this.#downLogged) {
      this.#downLogged = true;
      // Info, not warn: Gatehouse stays correct (every load reads Redis), and a Redis outage is already reported once
      // by the outage log.
      this.#logger?.info({ reason }, 'session cache off: the invalidation feed is down; sessions are read from redis');
    }
    this.#setTrusted(false);
  }

  #generationOf(connection: Redis): number {
    return this.#generation.get(connection) ?? 0;
  }

  async #subscribe(): Promise<void> {
    const generation = this.#generationOf(this.#subscriber);
    try {
      const id = Number(await this.#subscriber.call('CLIENT', 'ID'));
      if (generation !== this.#generationOf(this.#subscriber)) return;
      await this.#subscriber.subscribe(CHANNEL);
      if (generation !== this.#generationOf(this.#subscriber)) return;
      this.#subscriberId = id;
      await this.#enableTracking();
    } catch (error) {
      this.#restart(this.#subscriber, generation, error);
    }
  }

  /** One establishment at a time on the tracking connection (its OFF / ON pairs must not interleave). */
  #enableTracking(): Promise<void> {
    this.#tracking = this.#tracking.then(() => this.#enableTrackingNow());
    return this.#tracking;
  }

  async #enableTrackingNow(): Promise<void> {
    const id = this.#subscriberId;
    if (id === undefined || this.#tracker.status !== 'ready' || this.#closing) return;
    const subscriberGeneration = this.#generationOf(this.#subscriber);
    const generation = this.#generationOf(this.#tracker);
    try {
      // Off first: tracking may still be on from an earlier subscriber, and the same prefix cannot be added twice.
      await this.#tracker.call('CLIENT', 'TRACKING', 'off');
      await this.#tracker.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.#prefix);
      // Either connection may have dropped meanwhile: its own 'ready' starts over.
      if (
        generation !== this.#generationOf(this.#tracker) ||
        subscriberGeneration !== this.#generationOf(this.#subscriber) ||
        this.#subscriberId !== id
      )
        return;
      if (this.#downLogged || this.#refusalLogged)
        this.#logger?.info('session cache on again: the invalidation feed is back');
      this.#downLogged = false;
      this.#refusalLogged = false;
      this.#setTrusted(true);
    } catch (error) {
      this.#restart(this.#tracker, generation, error);
    }
  }

  /** A step of the establishment failed on a live connection: reconnect it, which starts over. */
  #restart(connection: Redis, generation: number, error: unknown): void {
    if (this.#closing || generation !== this.#generationOf(connection)) return;
    this.#down(connection, `could not enable invalidations: ${(error as Error).message}`);
    if (!(error instanceof ReplyError)) {
      // Timed out or lost: the path, not Redis; the client's own reconnection (with its back-off) starts over.
      connection.disconnect(true);
      return;
    }
    // Refused by Redis: a deployment problem the operator should hear about (once per refusal, not per retry).
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      this.#logger?.warn(
        { err: { message: (error as Error).message } },
        'session cache off: redis refused client tracking (needs redis 6+ and the CLIENT and SUBSCRIBE commands); sessions are read from redis',
      );
    }
    connection.disconnect();
    const retry = setTimeout(() => {
      if (!this.#closing) connection.connect().catch(() => undefined);
    }, RETRY_AFTER_REFUSAL_MS);
    retry.unref();
  }

  async #beat(): Promise<void> {
    if (this.#beating || !this.#trusted) return;
    this.#beating = true;
    try {
      await Promise.all([this.#ping(this.#subscriber, 'subscriber'), this.#ping(this.#tracker, 'tracking')]);
    } finally {
      this.#beating = false;
    }
  }

  async #ping(connection: Redis, name: string): Promise<void> {
    try {
      await connection.ping();
    } catch {
      if (this.#closing) return;
      this.#down(connection, `${name} connection did not answer a heartbeat within ${HEARTBEAT_TIMEOUT_MS} ms`);
      // A hung connection may never close by itself: drop it and let the client reconnect.
      connection.disconnect(true);
    }
  }

  #setTrusted(trusted: boolean): void {
    this.#trusted = trusted;
    this.#sink.setTrusted(trusted);
  }
}
