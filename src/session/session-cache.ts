// Decoded sessions held in this process, by session ID, bounded in entries and bytes (least recently used first
// out). An entry is "fresh" (may answer a load with no Redis command) only while the invalidation feed
// (invalidation.ts) is trusted and has been since the entry was read; otherwise it is only a decode memo: the blob is
// still read from the store, and when it is the very blob remembered, the decryption and parse are skipped.
import type { SessionData } from './model.js';
import type { SessionCacheMetrics } from '../observability/metrics.js';
import { isWellFormedSessionId } from './crypto.js';

export interface CachedSession {
  /** The store key (a SHA-256 of the ID), as named in Redis's invalidation messages. */
  key: string;
  /** The exact blob last read or written. */
  blob: string;
  data: SessionData;
}

/** Handed out before a read or write of `key`, given back after it: decides whether the answer may be cached fresh. */
export interface FillTicket {
  readonly key: string;
  readonly epoch: number;
  readonly seq: number;
}

export interface SessionCacheLimits {
  /** At most this many entries (at least 1). */
  maxEntries: number;
  /** At most about this many bytes of blobs and decoded data. */
  maxBytes: number;
}

export interface SessionCacheCounters {
  hits: number;
  misses: number;
  /** Times the whole cache was dropped: the feed went down, came back, or Redis was flushed. */
  resets: number;
  invalidations: number;
}

/**
 * How the set of entries that may answer alone changed, in the order the cache applied it: `fresh`, an entry that
 * now may (with its data); `stale`, one that no longer may (invalidated, forgotten, evicted or replaced); `none`, none
 * any more (the feed's trust lost or regained, or a reset). Replaying them in order rebuilds exactly that set
 * (session-mirror.ts; docs/design/authz-isolate.md).
 */
export type FreshChange =
  | { kind: 'fresh'; id: string; data: SessionData }
  | { kind: 'stale'; id: string }
  | { kind: 'none' };

interface Entry extends CachedSession {
  bytes: number;
  /** The trust epoch in which this entry was read from the store with no invalidation racing it; -1: memo only. */
  freshIn: number;
}

/**
 * A rough byte count: the blob held as a JS string (2 bytes a character), the decoded object about as large as its
 * JSON, plus the ID, the key and the bookkeeping. Approximate on purpose: it bounds memory, it does not meter it.
 */
const ENTRY_OVERHEAD_BYTES = 512;
const approximateBytes = (blob: string): number => blob.length * 4 + ENTRY_OVERHEAD_BYTES;

export class SessionCache {
  readonly #limits: SessionCacheLimits;
  readonly #metrics: SessionCacheMetrics | undefined;
  /**
   * Insertion order is recency order: a hit moves the entry to the end, eviction takes from the front. Only IDs of
   * the issued shape are ever held (`store`), so a hit proves an ID well formed.
   */
  readonly #byId = new Map<string, Entry>();
  /** The ID at the end of `#byId` when known: a hit on it needs no move (one session asking again and again). */
  #newest: string | undefined;
  readonly #idByKey = new Map<string, string>();
  #bytes = 0;
  /** Whether the feed currently guarantees that every change of a session key will be reported. */
  #trusted = false;
  /** Bumped on every change of trust: an entry or a read from an older epoch is never fresh. */
  #epoch = 0;
  /** Bumped on every invalidation: a read that started before the invalidation of its key is not cached fresh. */
  #seq = 0;
  /** Keys being read or written now, with how many such operations; and the last invalidation of each of those keys. */
  readonly #inflight = new Map<string, number>();
  readonly #invalidatedAt = new Map<string, number>();
  readonly counters: SessionCacheCounters = { hits: 0, misses: 0, resets: 0, invalidations: 0 };
  /** Told of every change of the fresh set (`watch`); off the hit path. */
  #watcher: ((change: FreshChange) => void) | undefined;

  constructor(limits: SessionCacheLimits, metrics?: SessionCacheMetrics) {
    this.#limits = { maxEntries: Math.max(1, limits.maxEntries), maxBytes: Math.max(0, limits.maxBytes) };
    this.#metrics = metrics;
  }

  get size(): number {
    return this.#byId.size;
  }

  /**
   * Tells `watcher` of every later change of the fresh set, in order, each after the cache has made it. It is first
   * told `none`, then each entry that is fresh now, so that replaying from that point rebuilds the set. One watcher
   * at a time; the returned function stops it.
   */
  watch(watcher: (change: FreshChange) => void): () => void {
    if (this.#watcher !== undefined) throw new Error('the session cache already has a watcher');
    this.#watcher = watcher;
    watcher({ kind: 'none' });
    for (const [id, entry] of this.#byId) if (this.#isFresh(entry)) watcher({ kind: 'fresh', id, data: entry.data });
    return () => {
      if (this.#watcher === watcher) this.#watcher = undefined;
    };
  }

  get bytes(): number {
    return this.#bytes;
  }

  get trusted(): boolean {
    return this.#trusted;
  }

  /**
   * The entry for `id` when it may answer without the store: the feed is trusted and has been since the entry was
   * read. Counts a hit, and a miss unless `countMiss` is false (a caller that will ask again through the store path,
   * which counts it). The caller still checks the session's own deadlines.
   */
  fresh(id: string, countMiss = true): CachedSession | undefined {
    const entry = this.#byId.get(id);
    if (entry !== undefined && this.#isFresh(entry)) {
      // Most recently used goes last.
      if (this.#newest !== id) {
        this.#byId.delete(id);
        this.#byId.set(id, entry);
        this.#newest = id;
      }
      this.counters.hits++;
      this.#metrics?.sessionCacheHit();
      return entry;
    }
    if (!countMiss) return undefined;
    this.counters.misses++;
    this.#metrics?.sessionCacheMiss();
    return undefined;
  }

  /** The remembered entry whatever its freshness: to skip decoding when the store returns the very same blob. */
  memo(id: string): CachedSession | undefined {
    return this.#byId.get(id);
  }

  /** Call before reading or writing `key` in the store; give the ticket back to `store` or `release`. */
  begin(key: string): FillTicket {
    this.#inflight.set(key, (this.#inflight.get(key) ?? 0) + 1);
    return { key, epoch: this.#epoch, seq: this.#seq };
  }

  /**
   * Remembers what the store answered (or was written) for `id`. Fresh only when the feed was trusted all along and
   * no invalidation of the key arrived since `begin`: an invalidation racing the reply means the answer may already be
   * stale. Otherwise it is kept as a memo only.
   */
  store(id: string, ticket: FillTicket, value: CachedSession): void {
    const clean = this.clean(ticket);
    this.release(ticket);
    if (!isWellFormedSessionId(id)) return; // never issued by us: nothing to remember
    this.#put(id, { ...value, bytes: approximateBytes(value.blob), freshIn: clean ? this.#epoch : -1 });
  }

  /**
   * Whether a read begun with `ticket` (and not yet given back) would still be cached fresh if it returned now: the
   * feed has been trusted throughout and no change of its key has been reported since it began.
   */
  clean(ticket: FillTicket): boolean {
    const invalidated = this.#invalidatedAt.get(ticket.key);
    return this.#trusted && ticket.epoch === this.#epoch && (invalidated === undefined || invalidated <= ticket.seq);
  }

  release(ticket: FillTicket): void {
    const left = (this.#inflight.get(ticket.key) ?? 1) - 1;
    if (left > 0) this.#inflight.set(ticket.key, left);
    else {
      this.#inflight.delete(ticket.key);
      this.#invalidatedAt.delete(ticket.key);
    }
  }

  forget(id: string): void {
    const entry = this.#byId.get(id);
    if (entry !== undefined) this.#remove(id, entry);
  }

  /** Redis reported a change of these store keys (written, deleted, expired or evicted, by anyone). */
  invalidate(keys: readonly string[]): void {
    this.#seq++;
    for (const key of keys) {
      this.counters.invalidations++;
      if (this.#inflight.has(key)) this.#invalidatedAt.set(key, this.#seq);
      // Kept as a memo only: if the store still holds this very blob (the change was this replica's own write, or
      // a touch that ended up identical), decoding is skipped; it never answers alone again.
      const id = this.#idByKey.get(key);
      if (id === undefined) continue;
      const entry = this.#byId.get(id)!;
      const wasFresh = this.#isFresh(entry);
      entry.freshIn = -1;
      if (wasFresh) this.#watcher?.({ kind: 'stale', id });
    }
  }

  /** Every key may have changed (FLUSHALL, FLUSHDB, or a feed that lost messages): nothing remembered is kept. */
  reset(): void {
    this.#epoch++;
    this.#byId.clear();
    this.#idByKey.clear();
    this.#newest = undefined;
    this.#bytes = 0;
    this.counters.resets++;
    this.#metrics?.sessionCacheReset();
    this.#watcher?.({ kind: 'none' });
  }

  /**
   * The feed's state. Losing trust drops everything (it may have missed invalidations); gaining it starts a new
   * epoch, so nothing read before (or during a read that straddles the change) is ever fresh.
   */
  setTrusted(trusted: boolean): void {
    if (trusted === this.#trusted) return;
    this.#trusted = trusted;
    if (trusted) {
      // Nothing read before is fresh in the new epoch (nothing was while untrusted either): said for a watcher's sake.
      this.#epoch++;
      this.#watcher?.({ kind: 'none' });
    } else this.reset();
  }

  #put(id: string, entry: Entry): void {
    const old = this.#byId.get(id);
    if (old !== undefined) this.#remove(id, old);
    if (entry.bytes > this.#limits.maxBytes) return;
    this.#byId.set(id, entry);
    this.#newest = id;
    this.#idByKey.set(entry.key, id);
    this.#bytes += entry.bytes;
    if (this.#isFresh(entry)) this.#watcher?.({ kind: 'fresh', id, data: entry.data });
    while (this.#byId.size > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes) {
      const [oldestId, oldest] = this.#byId.entries().next().value!;
      this.#remove(oldestId, oldest);
    }
  }

  #remove(id: string, entry: Entry): void {
    const wasFresh = this.#isFresh(entry);
    this.#byId.delete(id);
    if (this.#newest === id) this.#newest = undefined;
    if (this.#idByKey.get(entry.key) === id) this.#idByKey.delete(entry.key);
    this.#bytes -= entry.bytes;
    if (wasFresh) this.#watcher?.({ kind: 'stale', id });
  }

  /** May answer alone: read in the current trust epoch, with the feed trusted (the one rule `fresh` applies). */
  #isFresh(entry: Entry): boolean {
    return this.#trusted && entry.freshIn === this.#epoch;
  }
}
