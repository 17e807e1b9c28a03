// The SessionStore port: an expiring key-value store of encrypted session blobs (Redis, or memory for one replica).
export interface SessionStore {
  /** Resolves null when the key is absent; rejects with SessionStoreUnavailableError when the store cannot answer. */
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Sets only when the key still exists (Redis SET XX); false when it is gone, so nothing ended is brought back. */
  replace(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Sets only when the key is absent (Redis SET NX), atomically; true when this caller set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Gets and deletes in one atomic step (Redis GETDEL): of racing callers, exactly one receives the value. */
  take(key: string): Promise<string | null>;
  /** Deletes only while the key holds `value` (one atomic step): a lock's owner never frees someone else's lock. */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
  /** Sets a new TTL only while the key holds `value` (one atomic step): a lock's owner keeps only its own lock alive. */
  expireIfEquals(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Adds `member` (a store key) to the set `indexKey`, kept until `expiresAtMs` (epoch ms); members already past
   * their time are dropped, and the set itself expires with its last member. Used for the sessions of each user.
   */
  indexAdd(indexKey: string, member: string, expiresAtMs: number): Promise<void>;
  indexRemove(indexKey: string, member: string): Promise<void>;
  /** The members of the set not yet past their time (those past it are dropped); one key, so fine on a cluster. */
  indexMembers(indexKey: string): Promise<string[]>;
  /** Deletes every key listed in the set, and the set; resolves how many of those keys still existed. */
  deleteIndexed(indexKey: string): Promise<number>;
  /** Rejects when the store is unreachable (used by /api/health). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
