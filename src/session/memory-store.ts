// The in-process SessionStore: the embedded default when no Redis is configured. One replica only, since
// another process cannot see these sessions (SPEC §9 asks for Redis as soon as there are several).
import { SessionStoreUnavailableError } from '../observability/backend-errors.js';
import type { SessionStore } from './store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

export interface MemorySessionStoreOptions {
  /** How often expired entries are dropped even if nobody asks for them again (ms). */
  sweepIntervalMs?: number;
  now?: () => number;
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>();
  /** Index key → member → expiry (epoch ms). */
  readonly #indexes = new Map<string, Map<string, number>>();
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    // Without a sweep, sessions that are never presented again would stay until restart.
    this.#sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.#sweeper.unref();
  }

  /** How many entries are held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | null> {
    this.#assertOpen();
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.#assertOpen();
    this.#put(key, value, ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    this.#assertOpen();
    this.#entries.delete(key);
  }

  async replace(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    this.#assertOpen();
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.#now()) return false;
    this.#put(key, value, ttlSeconds);
    return true;
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    this.#assertOpen();
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt > this.#now()) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
    return true;
  }

  async take(key: string): Promise<string | null> {
    this.#assertOpen();
    // No await between the read and the delete: that is what makes it atomic here.
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.value : null;
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    this.#assertOpen();
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.#now() || entry.value !== value) return false;
    this.#entries.delete(key);
    return true;
  }

  async expireIfEquals(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    this.#assertOpen();
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.#now() || entry.value !== value) return false;
    this.#put(key, value, ttlSeconds);
    return true;
  }

  async indexAdd(indexKey: string, member: string, expiresAtMs: number): Promise<void> {
    this.#assertOpen();
    const index = this.#indexes.get(indexKey) ?? new Map<string, number>();
    const now = this.#now();
    for (const [key, expiresAt] of index) if (expiresAt <= now) index.delete(key);
    index.set(member, expiresAtMs);
    this.#indexes.set(indexKey, index);
  }

  async indexRemove(indexKey: string, member: string): Promise<void> {
    this.#assertOpen();
    const index = this.#indexes.get(indexKey);
    index?.delete(member);
    if (index?.size === 0) this.#indexes.delete(indexKey);
  }

  async indexMembers(indexKey: string): Promise<string[]> {
    this.#assertOpen();
    const index = this.#indexes.get(indexKey);
    if (index === undefined) return [];
    const now = this.#now();
    for (const [key, expiresAt] of index) if (expiresAt <= now) index.delete(key);
    if (index.size === 0) this.#indexes.delete(indexKey);
    return [...index.keys()];
  }

  async deleteIndexed(indexKey: string): Promise<number> {
    this.#assertOpen();
    const index = this.#indexes.get(indexKey);
    this.#indexes.delete(indexKey);
    let deleted = 0;
    for (const key of index?.keys() ?? []) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.expiresAt > this.#now()) deleted++;
      this.#entries.delete(key);
    }
    return deleted;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#entries.clear();
    this.#indexes.clear();
  }

  /** Drops every expired entry (run periodically; public so tests need not wait for the timer). */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
    for (const [indexKey, index] of this.#indexes) {
      for (const [key, expiresAt] of index) if (expiresAt <= now) index.delete(key);
      if (index.size === 0) this.#indexes.delete(indexKey);
    }
  }

  /** A TTL of zero or less removes the key, as the session's life is already over. */
  #put(key: string, value: string, ttlSeconds: number): void {
    if (!(ttlSeconds > 0)) this.#entries.delete(key);
    else this.#entries.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  #assertOpen(): void {
    // A closed store must not look like an empty one ("no session"): callers fail closed on this error.
    if (this.#sweeper === undefined)
      throw new SessionStoreUnavailableError(new Error('memory session store is closed'));
  }
}
