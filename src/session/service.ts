// Sessions over a SessionStore: lookup from cookie values, server-side expiry, encryption at rest, fresh IDs on
// every change of authentication level (SPEC §4, §8). Store failures surface as SessionStoreUnavailableError and
// are never mistaken for "no session".
import {
  hashedStoreKey,
  firstCandidateId,
  isWellFormedSessionId,
  newSessionId,
  SESSION_ID_LENGTH,
  SessionCipher,
  sessionStoreKey,
} from './crypto.js';
import { isWellFormedHandle, SessionHandles } from './crypto.js';
import type { AuthLevel, Session, SessionData } from './model.js';
import type { CookieSettings } from '../config/cookies.js';
import type { SessionStore } from './store.js';
import { type CachedSession, type FillTicket, SessionCache } from './session-cache.js';
import { absoluteEndMs, isRememberMe, isSessionAlive, remainingLifeMs, TOUCH_INTERVAL_MS } from './lifetime.js';

export interface SessionServiceOptions {
  /** `session.secret`: the encryption key is derived from it. */
  secret: string;
  /** `session.redis.key_prefix`, so several deployments can share one Redis database. */
  keyPrefix?: string;
  now?: () => number;
  /**
   * Decoded sessions kept in this process. Trusted by an invalidation feed (invalidation.ts), a warm session is
   * answered with no store command; without one (memory store, the CLI) it only saves decoding an unchanged blob.
   */
  cache?: SessionCache;
}

/** A cookie name may legitimately appear twice (a sibling subdomain set its own); more is noise or an attack. */
const MAX_IDS_TRIED = 3;

export type NewSessionData = Omit<SessionData, 'createdAt' | 'lastActivity' | 'cookieDomain'>;

/** One session as its owner's list shows it: named by an opaque handle, never by anything that could be a cookie. */
export interface ListedSession {
  handle: string;
  browser: string | undefined;
  os: string | undefined;
  address: string | undefined;
  /** Epoch milliseconds: the sign-in, and the last activity the session recorded. */
  createdAt: number;
  lastActivity: number;
  level: AuthLevel;
  rememberMe: boolean;
  cookieDomain: string;
  /** The session the list was asked from ("this device"). */
  current: boolean;
}

/** The cookie settings of a cookie domain (to tell whether a listed session is still alive), if it is configured. */
export type CookieLookup = (domain: string) => CookieSettings | undefined;

/**
 * Rounds of `endOthers` before giving up: only sessions of the same user created while it runs make another round,
 * so this is never reached in practice (as `deleteIndexedAcrossSlots`).
 */
const MAX_END_ROUNDS = 50;

/**
 * Without a cache given: decoded sessions this process has seen, by ID, never trusted to answer alone. The store is
 * asked on every load, so a session deleted or changed elsewhere is seen at once; only when it returns the very same
 * authenticated blob are the hash, the decryption and the JSON parse skipped.
 */
const DEFAULT_MEMO_LIMITS = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 };

export class SessionService {
  readonly #store: SessionStore;
  readonly #cipher: SessionCipher;
  readonly #keyPrefix: string;
  readonly #now: () => number;
  readonly #cache: SessionCache;
  /** Store reads of sessions in flight, by cookie domain and ID, that concurrent loads may share (#loadOne). */
  readonly #loading = new Map<string, { ticket: FillTicket; read: Promise<SessionData | undefined> }>();
  /** Sessions whose activity touch is in flight (at most one per session at a time). */
  readonly #touching = new Set<string>();
  readonly #handles: SessionHandles;

  constructor(store: SessionStore, options: SessionServiceOptions) {
    this.#store = store;
    this.#cipher = new SessionCipher(options.secret);
    this.#keyPrefix = options.keyPrefix ?? 'gatehouse:';
    this.#now = options.now ?? Date.now;
    this.#cache = options.cache ?? new SessionCache(DEFAULT_MEMO_LIMITS);
    this.#handles = new SessionHandles(options.secret);
  }

  /** The cache's counters and size (the bench and tests report them). */
  get cache(): Pick<SessionCache, 'counters' | 'size' | 'bytes' | 'trusted'> {
    return this.#cache;
  }

  /**
   * The authz path's read, with no promise and no copy: the session named by the first well-formed cookie value when
   * the cache alone may answer it (fresh, as `load` would use it, and within its deadlines); otherwise undefined,
   * and the caller asks `load`. The data is the cached object itself: read it, never change it (`touch` copies).
   */
  peek(cookieValues: readonly string[], cookie: CookieSettings): Readonly<Session> | undefined {
    // The usual cookie first: the cache holds only well-formed IDs, so a hit on the first value is the first
    // well-formed one (the one `load` tries first) with no shape check; the length test keeps long garbage unhashed.
    const first = cookieValues[0];
    let id = first;
    let fresh = first !== undefined && first.length === SESSION_ID_LENGTH ? this.#cache.fresh(first, false) : undefined;
    if (fresh === undefined) {
      id = firstCandidateId(cookieValues);
      if (id === undefined || id === first) return undefined;
      fresh = this.#cache.fresh(id, false);
    }
    return fresh !== undefined && this.#isAlive(fresh.data, cookie) ? { id: id!, data: fresh.data } : undefined;
  }

  /** The live session named by one of the cookie values, or undefined; one store round trip in the common case. */
  async load(cookieValues: readonly string[], cookie: CookieSettings): Promise<Session | undefined> {
    for (const id of candidateIds(cookieValues)) {
      const session = await this.#loadOne(id, cookie);
      if (session !== undefined) return session;
    }
    return undefined;
  }

  async create(data: NewSessionData, cookie: CookieSettings): Promise<Session> {
    const now = this.#now();
    const session: Session = {
      id: newSessionId(),
      data: { ...data, cookieDomain: cookie.domain, createdAt: now, lastActivity: now },
    };
    await this.#write(session, cookie, false);
    return session;
  }

  /**
   * Writes an existing session in place (Redis SET XX), with a TTL equal to its remaining life so Redis itself drops
   * idle and expired sessions. False when the session no longer exists: a logout or level change that landed while
   * this request was in flight is never undone by writing the old session back.
   */
  save(session: Session, cookie: CookieSettings): Promise<boolean> {
    return this.#write(session, cookie, true);
  }

  async #write(session: Session, cookie: CookieSettings, inPlace: boolean): Promise<boolean> {
    const key = this.#key(session.id);
    const remainingMs = remainingLifeMs(session.data, cookie, this.#now());
    if (remainingMs <= 0) {
      await this.#end(session.id, key, () => this.#store.delete(key));
      return false;
    }
    const blob = this.#cipher.seal(JSON.stringify(session.data), key);
    // Taken before the write: if another change of this key is reported meanwhile, what is written here is not
    // cached fresh (the writer's own change is reported too, shortly after; the next load then reads it once).
    const ticket = this.#cache.begin(key);
    try {
      if (inPlace) {
        if (!(await this.#store.replace(key, blob, remainingMs / 1000))) {
          this.#cache.release(ticket);
          this.#cache.forget(session.id);
          return false;
        }
      } else {
        await this.#store.set(key, blob, remainingMs / 1000);
      }
    } catch (error) {
      this.#cache.release(ticket);
      this.#cache.forget(session.id);
      throw error;
    }
    this.#cache.store(session.id, ticket, { key, blob, data: copyData(session.data) });
    // A new ID (create, regenerate): listed under its user until its absolute end, which later writes never move,
    // so in-place writes (the authz hot path) need not touch the list.
    if (!inPlace && session.data.username !== '')
      await this.#store.indexAdd(this.#userKey(session.data.username), key, absoluteEndMs(session.data, cookie));
    return true;
  }

  /**
   * Ends a session here and in the store. The key is invalidated in this process before the store is asked (a read
   * in flight is not cached fresh) and again after (a read that overtook the deletion is dropped), so no later load
   * on this replica can answer the ended session; other replicas hear it from Redis.
   */
  async #end<T>(id: string, key: string, remove: () => Promise<T>): Promise<T> {
    this.#cache.forget(id);
    this.#cache.invalidate([key]);
    try {
      return await remove();
    } finally {
      this.#cache.invalidate([key]);
    }
  }

  /**
   * The same data under a new ID, the old one deleted: call on every change of authentication level so an ID
   * planted before sign-in is worthless after it (no fixation). `createdAt` is kept, so a new level never extends
   * the absolute lifetime; to start a new lifetime (e.g. at sign-in) use `create` and `destroy` instead.
   * Undefined when the old session ended meanwhile (signed out elsewhere, revoked, expired): the new one is removed
   * too, so ending a session always wins over a change racing with it.
   */
  async regenerate(session: Session, cookie: CookieSettings): Promise<Session | undefined> {
    const renewed: Session = { id: newSessionId(), data: { ...session.data } };
    // Listed under its user before the old one is taken: a revoke running meanwhile sees one or the other.
    await this.#write(renewed, cookie, false);
    const key = this.#key(session.id);
    const existed = (await this.#end(session.id, key, () => this.#store.take(key))) !== null;
    if (session.data.username !== '') await this.#store.indexRemove(this.#userKey(session.data.username), key);
    if (existed) return renewed;
    await this.destroy(renewed);
    return undefined;
  }

  async destroy(session: Session): Promise<void> {
    const key = this.#key(session.id);
    await this.#end(session.id, key, () => this.#store.delete(key));
    if (session.data.username !== '') await this.#store.indexRemove(this.#userKey(session.data.username), key);
  }

  /**
   * Ends every session of `username` on every replica (`gatehouse sessions revoke`); resolves how many were live.
   * One atomic step in the store, so a regenerate racing with it loses either way (see `regenerate`); a sign-in
   * that completes after it starts a new session.
   */
  async revokeUser(username: string): Promise<number> {
    // The user's keys are not known here before the store answers: drop everything, before (reads in flight are not
    // cached fresh) and after (reads that overtook the deletion are dropped). Rare, and other replicas lose only that
    // user's entries, through Redis's reports.
    this.#cache.reset();
    try {
      return await this.#store.deleteIndexed(this.#userKey(username));
    } finally {
      this.#cache.reset();
    }
  }

  /**
   * The live sessions of `username` (the user's list, `gatehouse sessions list`), most recently active first.
   * Read from the store, not the cache: this is not the hot path. Keys listed whose session has already ended
   * (inactivity ends a session before the absolute end its index entry carries) are dropped from the index here.
   */
  async listUser(username: string, cookies: CookieLookup, current?: Session): Promise<ListedSession[]> {
    const userKey = this.#userKey(username);
    const currentKey = current === undefined ? undefined : this.#key(current.id);
    const keys = await this.#store.indexMembers(userKey);
    const blobs = await Promise.all(keys.map((key) => this.#store.get(key)));
    const now = this.#now();
    const listed: ListedSession[] = [];
    const gone: string[] = [];
    keys.forEach((key, i) => {
      const blob = blobs[i] ?? null;
      if (blob === null) {
        gone.push(key);
        return;
      }
      const data = this.#decode(blob, key);
      // Undecryptable (secret rotated) or not this user's: nothing to show; its next load removes it.
      if (data === undefined || data.username !== username || data.level < 1) return;
      const cookie = cookies(data.cookieDomain);
      if (cookie === undefined || remainingLifeMs(data, cookie, now) <= 0) return;
      listed.push({
        handle: this.#handles.of(key),
        browser: data.browser,
        os: data.os,
        address: data.address,
        createdAt: data.createdAt,
        lastActivity: data.lastActivity,
        level: data.level,
        rememberMe: isRememberMe(data, cookie),
        cookieDomain: data.cookieDomain,
        current: key === currentKey,
      });
    });
    await Promise.all(gone.map((key) => this.#store.indexRemove(userKey, key)));
    return listed.sort((a, b) => Number(b.current) - Number(a.current) || b.lastActivity - a.lastActivity);
  }

  /**
   * Ends the session of `username` with this handle, on every replica (the cache hears it through Redis); false when
   * no live session of theirs has it. Only the user's own index is searched, so a handle of another user's session
   * ends nothing.
   */
  async endByHandle(username: string, handle: string): Promise<boolean> {
    if (!isWellFormedHandle(handle)) return false;
    const userKey = this.#userKey(username);
    const key = (await this.#store.indexMembers(userKey)).find((member) => this.#handles.of(member) === handle);
    if (key === undefined) return false;
    const existed = (await this.#endKey(key, () => this.#store.take(key))) !== null;
    await this.#store.indexRemove(userKey, key);
    return existed;
  }

  /**
   * Ends every session of `username` except `keep` ("sign out everywhere else"); resolves how many were live. In
   * rounds, like `deleteIndexedAcrossSlots`: a regenerate racing with it lists its new key before taking the old
   * one, so either it finds the old key gone and gives up, or the next round sees and ends the new key.
   */
  async endOthers(username: string, keep: Session | undefined): Promise<number> {
    const userKey = this.#userKey(username);
    const keepKey = keep === undefined ? undefined : this.#key(keep.id);
    let ended = 0;
    for (let round = 0; round < MAX_END_ROUNDS; round++) {
      const others = (await this.#store.indexMembers(userKey)).filter((key) => key !== keepKey);
      if (others.length === 0) return ended;
      const taken = await Promise.all(others.map((key) => this.#endKey(key, () => this.#store.take(key))));
      for (const blob of taken) if (blob !== null) ended++;
      await Promise.all(others.map((key) => this.#store.indexRemove(userKey, key)));
    }
    throw new Error('sessions of this user kept being created while they were being ended');
  }

  /** The opaque handle of a session, as `listUser` names it. */
  handleOf(session: Session): string {
    return this.#handles.of(this.#key(session.id));
  }

  /** As `#end`, for a session known only by its store key: this process's cache entry is no longer fresh. */
  async #endKey<T>(key: string, remove: () => Promise<T>): Promise<T> {
    this.#cache.invalidate([key]);
    try {
      return await remove();
    } finally {
      this.#cache.invalidate([key]);
    }
  }

  /**
   * Refreshes the inactivity timestamp. Every authz request may ask, so it writes at most once per second per
   * session, and never under remember-me (where inactivity is not enforced).
   */
  async touch(session: Readonly<Session>, cookie: CookieSettings): Promise<void> {
    if (!this.touchDue(session, cookie)) return;
    // Until this write is answered, loads still see the old timestamp: without this mark every request in that
    // window would write too (a burst of writes, and as many reports to every replica, at high concurrency).
    this.#touching.add(session.id);
    try {
      // A copy: the session may be the cached object itself (`peek`).
      await this.save({ id: session.id, data: { ...copyData(session.data), lastActivity: this.#now() } }, cookie);
    } finally {
      this.#touching.delete(session.id);
    }
  }

  /** Whether `touch` would write: lets the hot path skip the call (and its promise) in the common case. */
  touchDue(session: Readonly<Session>, cookie: CookieSettings): boolean {
    return (
      !isRememberMe(session.data, cookie) &&
      this.#now() - session.data.lastActivity >= TOUCH_INTERVAL_MS &&
      !this.#touching.has(session.id)
    );
  }

  async #loadOne(id: string, cookie: CookieSettings): Promise<Session | undefined> {
    // Warm: no store command. The session's own deadlines are still checked here, on every load: one past its
    // inactivity or absolute end (or for another cookie domain) is read again, and refused below as before.
    const fresh = this.#cache.fresh(id);
    if (fresh !== undefined && this.#isAlive(fresh.data, cookie)) return { id, data: copyData(fresh.data) };

    // A read of this session already in flight answers this load too, but only while Redis has reported no change of
    // the key since that read was sent (the cache's own rule for a fresh answer): after a touch or any change, the
    // many requests that arrive before the first read returns share that one GET instead of sending one each.
    const loadKey = `${cookie.domain}\u0000${id}`;
    const pending = this.#loading.get(loadKey);
    if (pending !== undefined && this.#cache.clean(pending.ticket)) {
      const shared = await pending.read;
      return shared !== undefined && this.#isAlive(shared, cookie) ? { id, data: copyData(shared) } : undefined;
    }
    const known = this.#cache.memo(id);
    const key = known?.key ?? this.#key(id);
    const ticket = this.#cache.begin(key);
    const read = this.#read(id, key, known, ticket, cookie, loadKey);
    this.#loading.set(loadKey, { ticket, read });
    const data = await read;
    // Each caller gets its own copy: callers may change their session (elevation, a level) without touching another's.
    return data === undefined ? undefined : { id, data: copyData(data) };
  }

  /** One store read of a session (see #loadOne); resolves its data, never handed out itself, or undefined. */
  async #read(
    id: string,
    key: string,
    known: CachedSession | undefined,
    ticket: FillTicket,
    cookie: CookieSettings,
    loadKey: string,
  ): Promise<SessionData | undefined> {
    let blob: string | null;
    try {
      blob = await this.#store.get(key);
    } catch (error) {
      this.#settled(loadKey, ticket);
      this.#cache.release(ticket);
      throw error;
    }
    // Before the ticket is given back: once it is, the cache no longer tracks the key's changes, and a load joining
    // this read could not tell whether it is stale.
    this.#settled(loadKey, ticket);
    if (blob === null) {
      this.#cache.release(ticket);
      this.#cache.forget(id);
      return undefined;
    }
    const unchanged = known !== undefined && known.blob === blob;
    const data = unchanged ? copyData(known.data) : this.#decode(blob, key);
    if (data === undefined || !this.#isAlive(data, cookie)) {
      // Undecryptable (secret rotated), for another cookie domain, or past its time: it can never be valid again.
      this.#cache.release(ticket);
      await this.#end(id, key, () => this.#store.delete(key));
      return undefined;
    }
    this.#cache.store(id, ticket, { key, blob, data: copyData(data) });
    return data;
  }

  #settled(loadKey: string, ticket: FillTicket): void {
    if (this.#loading.get(loadKey)?.ticket === ticket) this.#loading.delete(loadKey);
  }

  #isAlive(data: SessionData, cookie: CookieSettings): boolean {
    return isSessionAlive(data, cookie, this.#now());
  }

  /**
   * Single use across replicas: `markOnce(token)` then `useOnce(token)` is true for exactly one caller, however
   * many race (the session blob alone cannot guarantee that, as two requests may read it before either writes).
   * Used for WebAuthn challenges. Only a hash of the token is stored.
   */
  async markOnce(token: string, ttlSeconds: number): Promise<void> {
    await this.#store.set(hashedStoreKey(this.#keyPrefix, 'once', token), '1', ttlSeconds);
  }

  async useOnce(token: string): Promise<boolean> {
    return (await this.#store.take(hashedStoreKey(this.#keyPrefix, 'once', token))) !== null;
  }

  /**
   * A short exclusive lock shared by every replica (Redis SET NX), e.g. one password check per user at a time so a
   * burst of concurrent guesses cannot all read "not banned" before any failure is counted. `owner` is the holder's
   * own random token: only the holder can extend or free it, and a crashed holder's lock expires by itself.
   */
  tryLock(name: string, owner: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.setIfAbsent(hashedStoreKey(this.#keyPrefix, 'lock', name), owner, ttlSeconds);
  }

  /** Keeps the lock alive while its holder still works; false when it was lost (expired, maybe taken by another). */
  extendLock(name: string, owner: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.expireIfEquals(hashedStoreKey(this.#keyPrefix, 'lock', name), owner, ttlSeconds);
  }

  async unlock(name: string, owner: string): Promise<void> {
    await this.#store.deleteIfEquals(hashedStoreKey(this.#keyPrefix, 'lock', name), owner);
  }

  #decode(blob: string, key: string): SessionData | undefined {
    const json = this.#cipher.open(blob, key);
    if (json === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(json);
      return isSessionData(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  #key(id: string): string {
    return sessionStoreKey(this.#keyPrefix, id);
  }

  /** The list of a user's sessions; named by a hash like every other key (usernames stay out of key names). */
  #userKey(username: string): string {
    return hashedStoreKey(this.#keyPrefix, 'user-sessions', username);
  }
}

/** The first well-formed ID, the one `load` tries first. */
/** The first few distinct well-formed IDs: malformed values are never looked up. */
function candidateIds(cookieValues: readonly string[]): string[] {
  const ids: string[] = [];
  for (const value of cookieValues) {
    if (ids.length === MAX_IDS_TRIED) break;
    if (isWellFormedSessionId(value) && !ids.includes(value)) ids.push(value);
  }
  return ids;
}

/** Deep enough that no caller can change a cached session: the arrays and ceremony state are copied too. */
function copyData(data: SessionData): SessionData {
  const copy: SessionData = { ...data, emails: [...data.emails], groups: [...data.groups] };
  if (data.pending !== undefined) copy.pending = structuredClone(data.pending);
  return copy;
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');
const isOptionalNumber = (value: unknown) => value === undefined || Number.isFinite(value);
const isOptionalLabel = (value: unknown) => value === undefined || (typeof value === 'string' && value.length <= 100);

/**
 * Authenticated encryption proves we wrote the blob, but perhaps with an older shape: anything that does not
 * look like today's SessionData is dropped rather than half-trusted.
 */
function isSessionData(value: unknown): value is SessionData {
  if (typeof value !== 'object' || value === null) return false;
  const data = value as Record<string, unknown>;
  return (
    typeof data.username === 'string' &&
    typeof data.displayName === 'string' &&
    isStringArray(data.emails) &&
    isStringArray(data.groups) &&
    (data.level === 0 || data.level === 1 || data.level === 2) &&
    typeof data.cookieDomain === 'string' &&
    Number.isFinite(data.createdAt) &&
    Number.isFinite(data.lastActivity) &&
    typeof data.rememberMe === 'boolean' &&
    (data.firstFactor === undefined || data.firstFactor === 'password' || data.firstFactor === 'passkey') &&
    isOptionalNumber(data.secondFactorAt) &&
    isOptionalNumber(data.elevatedUntil) &&
    isOptionalLabel(data.browser) &&
    isOptionalLabel(data.os) &&
    isOptionalLabel(data.address) &&
    (data.pending === undefined || (typeof data.pending === 'object' && data.pending !== null))
  );
}
