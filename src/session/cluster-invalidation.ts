// The session cache's invalidation feed on a Redis Cluster (docs/decisions.md, "Session cache on Redis Cluster").
// Client tracking is per node: a session key lives on the primary owning its slot, and only that node reports its
// changes. So there is one single-node feed (invalidation.ts: subscriber + BCAST tracking connection, heartbeat) per
// primary, built from the cluster's own view (CLUSTER NODES), rebuilt whenever that view changes. The cache is
// trusted only while every primary's feed is trusted AND a view read after they all became trusted names exactly the
// primaries they are on; any feed lost, any change of the view (failover, slots moved, a primary added or removed), a
// view that cannot be read, or the store's client meeting a node it did not know, drops the whole cache until that
// holds again.
import type { RedisOptions } from 'ioredis';
import {
  type InvalidationFeed,
  type InvalidationLogger,
  type InvalidationSink,
  RedisInvalidationFeed,
} from './invalidation.js';

/**
 * The cluster's view is read again this often even when nothing happened: the only way to see a change nobody
 * reported (a primary added and given slots, a manual failover) that the store's client has not yet met either.
 */
const LAYOUT_CHECK_INTERVAL_MS = 1_000;

/** A primary the feed must listen to, from CLUSTER NODES. */
export interface ClusterPrimary {
  id: string;
  host: string;
  port: number;
  /** Slot ranges it serves (`start-end` or `slot`), in the order Redis lists them. */
  slots: string[];
}

/**
 * The primaries of a CLUSTER NODES reply (`<id> <ip:port@bus[,hostname]> <flags> <primary|-> <ping> <pong> <epoch>
 * <link> <slot>...` per line) that may hold session keys: every primary serving slots (even one flagged failing: its
 * feed then cannot be up, which is the truth), and every healthy primary without slots (it may be importing some; a
 * new primary gets a feed before it gets keys). A failed primary without slots (replaced by its replica, not yet
 * back or forgotten) holds nothing and is left out, else the cache would stay off until an operator forgets it.
 */
export function parseClusterPrimaries(reply: string): ClusterPrimary[] {
  const primaries: ClusterPrimary[] = [];
  for (const line of reply.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, address, flagField] = fields as [string, string, string];
    const flags = flagField.split(',');
    if (!flags.includes('master')) continue;
    // Slots being imported or migrated (`[slot-<-id]`, `[slot->-id]`) stay with their owner until the move ends.
    const slots = fields.slice(8).filter((slot) => slot !== '' && !slot.startsWith('['));
    const unhealthy = ['fail', 'fail?', 'handshake', 'noaddr'].some((flag) => flags.includes(flag));
    if (slots.length === 0 && unhealthy) continue;
    const endpoint = address.split('@')[0]!.split(',')[0]!;
    const colon = endpoint.lastIndexOf(':');
    // An IPv6 address may come bracketed; the client wants it bare.
    const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    primaries.push({ id, host, port: Number(endpoint.slice(colon + 1)), slots });
  }
  return primaries;
}

/** One line per primary, sorted: equal exactly when the same nodes, at the same addresses, serve the same slots. */
export function clusterLayoutFingerprint(primaries: readonly ClusterPrimary[]): string {
  return primaries
    .map((primary) => `${feedKey(primary)} ${primary.slots.join(',')}`)
    .sort()
    .join('\n');
}

const feedKey = (primary: ClusterPrimary): string => `${primary.id}@${primary.host}:${primary.port}`;

/** What the feed needs of the store's Cluster client: the cluster's view, and word of nodes it meets or loses. */
export interface ClusterLayoutSource {
  call(command: string, ...args: string[]): Promise<unknown>;
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

export interface ClusterInvalidationFeedOptions {
  /** The session store's Cluster client (its reads are what the cache stands in for). */
  cluster: ClusterLayoutSource;
  /** Connection options for one node: the store's credentials, TLS and timeouts, at that host and port. */
  nodeOptions: (node: { host: string; port: number }) => RedisOptions;
  /** The prefix of every session key (`<key_prefix>session:`). */
  prefix: string;
  sink: InvalidationSink;
  logger?: InvalidationLogger;
}

interface NodeFeed {
  primary: ClusterPrimary;
  feed: RedisInvalidationFeed;
  trusted: boolean;
}

export class RedisClusterInvalidationFeed implements InvalidationFeed {
  readonly #options: ClusterInvalidationFeedOptions;
  readonly #feeds = new Map<string, NodeFeed>();
  /** The view the feeds are built for; undefined until the first one is read. */
  #layout: string | undefined;
  /** Whether a view read after every feed became trusted matched `#layout` (and nothing happened since). */
  #confirmed = false;
  /** Bumped by everything that may make a view read in flight out of date. */
  #changes = 0;
  #trusted = false;
  #downLogged = false;
  #checking = false;
  #checkAgain = false;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  readonly #onNodeSetChange = (): void => {
    this.#distrust('the cluster client met or lost a node');
    this.#scheduleCheck();
  };
  readonly #onRefresh = (): void => this.#scheduleCheck();

  constructor(options: ClusterInvalidationFeedOptions) {
    this.#options = options;
  }

  /** Whether the cache may currently answer without Redis (tests read it). */
  get trusted(): boolean {
    return this.#trusted;
  }

  start(): void {
    const { cluster } = this.#options;
    // A node the store's client meets or loses (a redirection to a new primary, a lost connection): distrusted at
    // once, in the same tick, so a read that the redirection serves is never cached fresh (its ticket predates it).
    cluster.on('+node', this.#onNodeSetChange);
    cluster.on('-node', this.#onNodeSetChange);
    cluster.on('refresh', this.#onRefresh);
    cluster.on('ready', this.#onRefresh);
    this.#timer = setInterval(() => this.#scheduleCheck(), LAYOUT_CHECK_INTERVAL_MS);
    this.#timer.unref();
    this.#scheduleCheck();
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    const { cluster } = this.#options;
    cluster.off('+node', this.#onNodeSetChange);
    cluster.off('-node', this.#onNodeSetChange);
    cluster.off('refresh', this.#onRefresh);
    cluster.off('ready', this.#onRefresh);
    this.#setTrusted(false, 'closing');
    const feeds = [...this.#feeds.values()];
    this.#feeds.clear();
    await Promise.allSettled(feeds.map(({ feed }) => feed.close()));
  }

  #scheduleCheck(): void {
    if (this.#closing) return;
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    void this.#checkLoop();
  }

  async #checkLoop(): Promise<void> {
    try {
      do {
        this.#checkAgain = false;
        await this.#check();
      } while (this.#checkAgain && !this.#closing);
    } finally {
      this.#checking = false;
    }
  }

  async #check(): Promise<void> {
    const changesAtStart = this.#changes;
    const allTrustedAtStart = this.#allFeedsTrusted();
    let primaries: ClusterPrimary[];
    try {
      primaries = parseClusterPrimaries(String(await this.#options.cluster.call('CLUSTER', 'NODES')));
    } catch (error) {
      this.#distrust(`cannot read the cluster layout: ${(error as Error).message}`);
      return;
    }
    if (this.#closing) return;
    if (primaries.length === 0) {
      this.#distrust('the cluster layout names no primary');
      return;
    }
    const layout = clusterLayoutFingerprint(primaries);
    if (layout !== this.#layout) {
      // A failover (the promoted replica may not have passed on every change), slots moved, a primary added or
      // removed: whatever was cached may have missed a report. Start over on the new layout.
      if (this.#layout !== undefined) this.#distrust('the cluster layout changed');
      this.#layout = layout;
      this.#confirmed = false;
      this.#reconcile(primaries);
    } else if (allTrustedAtStart && changesAtStart === this.#changes) {
      this.#confirmed = true;
    }
    this.#evaluate();
  }

  #allFeedsTrusted(): boolean {
    if (this.#feeds.size === 0) return false;
    for (const node of this.#feeds.values()) if (!node.trusted) return false;
    return true;
  }

  /** A feed per primary of the layout: new primaries get one, feeds of nodes no longer primaries are closed. */
  #reconcile(primaries: readonly ClusterPrimary[]): void {
    const wanted = new Map(primaries.map((primary) => [feedKey(primary), primary]));
    for (const [key, node] of this.#feeds)
      if (!wanted.has(key)) {
        // Out of the map first: its close (which reports "not trusted") must not count.
        this.#feeds.delete(key);
        void node.feed.close();
      }
    for (const [key, primary] of wanted) {
      const existing = this.#feeds.get(key);
      if (existing !== undefined) {
        existing.primary = primary;
        continue;
      }
      const sink = this.#options.sink;
      const feed: RedisInvalidationFeed = new RedisInvalidationFeed({
        redis: this.#options.nodeOptions({ host: primary.host, port: primary.port }),
        prefix: this.#options.prefix,
        // Reports are passed on from any feed, even one being replaced: one report too many costs a read.
        sink: {
          invalidate: (keys) => sink.invalidate(keys),
          reset: () => sink.reset(),
          setTrusted: (trusted) => this.#onFeedTrust(key, feed, trusted),
        },
        logger: warningsOnly(this.#options.logger, `${primary.host}:${primary.port}`),
      });
      const node: NodeFeed = { primary, feed, trusted: false };
      this.#feeds.set(key, node);
      node.feed.start();
    }
  }

  #onFeedTrust(key: string, feed: RedisInvalidationFeed, trusted: boolean): void {
    const node = this.#feeds.get(key);
    // A feed no longer in the map is being closed: its word no longer counts.
    if (node?.feed !== feed || node.trusted === trusted) return;
    node.trusted = trusted;
    this.#changes++;
    if (!trusted) this.#distrust(`the invalidation feed of ${node.primary.host}:${node.primary.port} is down`);
    // Down: the layout may have changed (a failover). Up: trust waits for a view read from now on.
    this.#scheduleCheck();
  }

  #distrust(reason: string): void {
    this.#changes++;
    this.#confirmed = false;
    this.#setTrusted(false, reason);
  }

  #evaluate(): void {
    this.#setTrusted(!this.#closing && this.#confirmed && this.#allFeedsTrusted(), 'not every primary is followed');
  }

  #setTrusted(trusted: boolean, reason: string): void {
    if (trusted === this.#trusted) return;
    this.#trusted = trusted;
    if (!trusted && !this.#closing && !this.#downLogged) {
      this.#downLogged = true;
      // Info, not warn: Gatehouse stays correct (every load reads Redis); node outages are reported by the store.
      this.#options.logger?.info(
        { reason },
        'session cache off: the cluster invalidation feed is in doubt; sessions are read from redis',
      );
    }
    if (trusted && this.#downLogged) {
      this.#downLogged = false;
      this.#options.logger?.info(
        { primaries: this.#feeds.size },
        'session cache on again: every primary reports its changes',
      );
    }
    this.#options.sink.setTrusted(trusted);
  }
}

/**
 * A node feed's logger: its refusal warning (Redis refused tracking) is passed on with the node's address; its
 * own "down" and "back" lines are not, the cluster feed says that once for all primaries.
 */
function warningsOnly(logger: InvalidationLogger | undefined, node: string): InvalidationLogger | undefined {
  if (logger === undefined) return undefined;
  const warn = (first: unknown, message?: string) =>
    typeof first === 'string' ? logger.warn({ node }, first) : logger.warn({ ...(first as object), node }, message);
  return { info: () => undefined, warn } as unknown as InvalidationLogger;
}
