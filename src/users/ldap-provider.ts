// The LDAP backend of the UserProvider port (authentication_backend.ldap, Authelia's keys and behaviour): a user is
// found with users_filter by the service user, their password checked by a bind as that user on a connection of
// its own, their groups found with groups_filter. Nothing is cached beyond Authelia's refresh_interval: the users
// signed in here are held in memory (so authz asks no directory per request) and re-read every refresh_interval;
// one no longer found (removed, or excluded by the filter as disabled) is dropped, and their sessions end at their
// next request. A directory that is down never signs anyone in (503) and never ends a session by itself.
import type { ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import { Client, InvalidCredentialsError, ResultCodeError, type Entry } from 'ldapts';
import type { Logger } from 'pino';
import type { LdapConfig } from '../config/schema.js';
import { fillValues, type FilterValues } from '../config/ldap-filter.js';
import { resolveLdapSettings, type LdapSearchSettings } from '../config/ldap-presets.js';
import { UserDirectoryUnavailableError } from '../observability/backend-errors.js';
import type { UserDetails, UserProvider } from './provider.js';

export type RefreshInterval = number | 'always' | 'disable';

export interface LdapUserProviderOptions {
  config: LdapConfig;
  /** Seconds, `always` (every request asks the directory) or `disable` (never re-read while held). */
  refreshInterval: RefreshInterval;
  logger?: Logger;
  /** Held users not asked for this long are dropped (read again on their next request); bounds the memory. */
  idleDropMs?: number;
}

interface Held {
  details: UserDetails;
  lastUsed: number;
}

/** A user found by a search: what a bind and a groups search need. */
interface Found {
  dn: string;
  details: UserDetails;
}

const DEFAULT_IDLE_DROP_MS = 60 * 60 * 1000;
/** Two entries for one username is a directory (or filter) mistake: refused, never a guess between them. */
const SIZE_LIMIT = 2;
const GROUPS_SIZE_LIMIT = 1000;

export class LdapUserProvider implements UserProvider {
  private readonly settings: LdapSearchSettings;
  private readonly held = new Map<string, Held>();
  private readonly inFlight = new Map<string, Promise<UserDetails | undefined>>();
  private readonly pool: ConnectionPool | undefined;
  private readonly tlsOptions: ConnectionOptions;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: LdapUserProviderOptions) {
    const config = options.config;
    this.settings = resolveLdapSettings(config);
    const tls = config.tls;
    const serverName = tls.server_name || config.address.host;
    this.tlsOptions = {
      // Node checks the certificate against `servername` when given; an IP is checked as an IP, not sent as SNI.
      ...(isIP(serverName) ? { host: serverName } : { servername: serverName }),
      rejectUnauthorized: !tls.skip_verify,
      minVersion: tls.minimum_version === 'TLS1.3' ? 'TLSv1.3' : 'TLSv1.2',
      maxVersion: tls.maximum_version === 'TLS1.2' ? 'TLSv1.2' : 'TLSv1.3',
      ...(tls.certificate_chain ? { cert: tls.certificate_chain } : {}),
      ...(tls.private_key ? { key: tls.private_key } : {}),
    };
    if (config.pooling.enable) this.pool = new ConnectionPool(() => this.serviceConnection(), config.pooling);
    const interval = options.refreshInterval;
    if (typeof interval === 'number' && interval > 0) {
      this.refreshTimer = setInterval(() => void this.refreshHeld(), interval * 1000);
      this.refreshTimer.unref();
    }
  }

  /** Opens one service connection, so a configuration that cannot reach or bind is known at start (and by --check-ldap). */
  async check(): Promise<void> {
    await this.withService(async () => undefined);
  }

  /** refresh_interval `always`: the session checks read the user from the directory on every request. */
  get alwaysLookup(): boolean {
    return this.options.refreshInterval === 'always';
  }

  /** The user as last read from the directory; undefined when not held here (ask `lookup`). */
  get(username: string): UserDetails | undefined {
    const held = this.held.get(username);
    if (held === undefined) return undefined;
    held.lastUsed = Date.now();
    return held.details;
  }

  /** Reads the user from the directory (a session of a user not held here, or refresh_interval `always`). */
  lookup(username: string): Promise<UserDetails | undefined> {
    const running = this.inFlight.get(username);
    if (running) return running;
    const reading = this.read(username).finally(() => this.inFlight.delete(username));
    this.inFlight.set(username, reading);
    return reading;
  }

  async checkPassword(username: string, password: string): Promise<UserDetails | undefined> {
    // An empty password makes a simple bind "unauthenticated", which many directories accept for any DN.
    if (password === '' || username === '') return undefined;
    const found = await this.withService((client) => this.findUser(client, username));
    if (found === undefined) return undefined;
    // Only the exact username (or one of the exact email values when the filter allows email): the directory
    // matches case and spaces loosely, and each spelling ("ALICE", " alice") would otherwise be a fresh regulation
    // subject for guessing the same password.
    if (username !== found.details.username && !found.details.emails.includes(username)) return undefined;
    if (!(await this.bindAs(found.dn, password))) return undefined;
    const details = await this.withService((client) => this.withGroups(client, found, username));
    this.hold(details);
    return details;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refreshTimer);
    await this.refreshing;
    await this.pool?.close();
    this.held.clear();
  }

  /** `used`: asked for by a request (a refresh keeps the time of the last use, so idle users are still dropped). */
  private async read(username: string, used = true): Promise<UserDetails | undefined> {
    const details = await this.withService(async (client) => {
      const found = await this.findUser(client, username);
      // The filter may match the email too: only the entry whose username is this one is this user.
      if (found === undefined || found.details.username !== username) return undefined;
      return this.withGroups(client, found, username);
    });
    if (details === undefined) this.held.delete(username);
    else this.hold(details, used);
    return details;
  }

  private hold(details: UserDetails, used = true): void {
    if (this.closed) return;
    // A held record is a snapshot, never changed in place: the authz path remembers decisions by it
    // (authz/decision-memo.ts); a refresh holds a new one.
    Object.freeze(details.groups);
    Object.freeze(details.emails);
    Object.freeze(details);
    const lastUsed = used ? Date.now() : (this.held.get(details.username)?.lastUsed ?? Date.now());
    this.held.set(details.username, { details, lastUsed });
  }

  /** Every held user read again; one not found is dropped; a directory that fails keeps what is held. */
  private async refreshHeld(): Promise<void> {
    if (this.refreshing || this.closed) return;
    const run = async () => {
      const idleBefore = Date.now() - (this.options.idleDropMs ?? DEFAULT_IDLE_DROP_MS);
      for (const [username, held] of [...this.held]) {
        if (this.closed) return;
        if (held.lastUsed < idleBefore) {
          this.held.delete(username);
          continue;
        }
        try {
          const details = await this.read(username, false);
          if (details === undefined)
            this.options.logger?.info({ user: username }, 'user no longer found in the directory: sessions end');
        } catch (error) {
          this.options.logger?.warn(
            { err: error },
            'user directory unavailable during refresh; keeping the user details already read',
          );
          return;
        }
      }
    };
    this.refreshing = run().finally(() => (this.refreshing = undefined));
    await this.refreshing;
  }

  private async findUser(client: Client, input: string): Promise<Found | undefined> {
    const entries = await this.search(client, this.settings.usersBaseDn, this.settings.usersFilter, { input }, [
      this.settings.attributes.username,
      this.settings.attributes.display_name,
      this.settings.attributes.mail,
      ...(this.settings.attributes.distinguished_name ? [this.settings.attributes.distinguished_name] : []),
    ]);
    if (entries.length === 0) return undefined;
    if (entries.length > 1) {
      this.options.logger?.warn({ entries: entries.length }, 'users_filter matched more than one entry: refused');
      return undefined;
    }
    const entry = entries[0]!;
    const { attributes } = this.settings;
    const username = values(entry, attributes.username)[0];
    if (username === undefined || username === '') {
      this.options.logger?.warn({ dn: entry.dn }, `directory entry has no ${attributes.username}: refused`);
      return undefined;
    }
    const dn = (attributes.distinguished_name && values(entry, attributes.distinguished_name)[0]) || entry.dn;
    return {
      dn,
      details: {
        username,
        displayName: values(entry, attributes.display_name)[0] ?? username,
        emails: values(entry, attributes.mail),
        groups: [],
        disabled: false,
      },
    };
  }

  private async withGroups(client: Client, found: Found, input: string): Promise<UserDetails> {
    const groupName = this.settings.attributes.group_name;
    const entries = await this.search(
      client,
      this.settings.groupsBaseDn,
      this.settings.groupsFilter,
      { input, username: found.details.username, dn: found.dn },
      [groupName],
      GROUPS_SIZE_LIMIT,
    );
    const groups = entries.map((entry) => values(entry, groupName)[0]).filter((name) => name !== undefined);
    return { ...found.details, groups: [...new Set(groups)].sort() };
  }

  private async search(
    client: Client,
    base: string,
    filter: string,
    filled: FilterValues,
    attributes: string[],
    sizeLimit = SIZE_LIMIT,
  ): Promise<Entry[]> {
    // ldapts reconnects a closed connection by itself, unbound and without StartTLS: a search there would run
    // anonymously (finding nobody, so ending sessions) or in clear. Refused; the pool replaces the connection.
    if (!client.isConnected || !client.isBound) throw new Error('the directory connection was closed');
    // Referrals (searchReferences) are never chased: an entry found only behind one is not found.
    const result = await client.search(base, {
      scope: 'sub',
      filter: fillValues(filter, filled),
      attributes,
      sizeLimit,
      timeLimit: Math.ceil(this.options.config.timeout),
    });
    return result.searchEntries;
  }

  /** True when the directory accepts `password` for `dn`; a refusal with a result code is a wrong password. */
  private async bindAs(dn: string, password: string): Promise<boolean> {
    const client = this.newClient();
    try {
      await this.secure(client);
      await client.bind(dn, password);
      return true;
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false;
      if (error instanceof ResultCodeError) {
        // Locked, expired, unwilling: the directory refused this user, which is not an outage.
        this.options.logger?.info({ code: error.code }, 'directory refused the user bind');
        return false;
      }
      throw this.unavailable(error, 'the bind as the user failed');
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** Runs `use` on a service-bound connection (pooled or fresh); connection failures become 503s. */
  private async withService<T>(use: (client: Client) => Promise<T>): Promise<T> {
    if (this.pool) {
      try {
        return await this.pool.use(use);
      } catch (error) {
        throw this.unavailable(error, 'a pooled directory operation failed');
      }
    }
    let client: Client;
    try {
      client = await this.serviceConnection();
    } catch (error) {
      throw this.unavailable(error, 'the service bind failed');
    }
    try {
      return await use(client);
    } catch (error) {
      throw this.unavailable(error, 'a directory search failed');
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async serviceConnection(): Promise<Client> {
    const client = this.newClient();
    try {
      await this.secure(client);
      const { user, password, permit_unauthenticated_bind: anonymous } = this.options.config;
      await client.bind(user ?? '', anonymous ? '' : (password ?? ''));
      return client;
    } catch (error) {
      await client.unbind().catch(() => undefined);
      throw error;
    }
  }

  private newClient(): Client {
    const { address, timeout } = this.options.config;
    return new Client({
      url: address.url,
      timeout: timeout * 1000,
      connectTimeout: timeout * 1000,
      // ldapts speaks TLS from the first byte whenever tlsOptions is given: only for ldaps:// (StartTLS gets its own).
      ...(address.scheme === 'ldaps' ? { tlsOptions: this.tlsOptions } : {}),
    });
  }

  private async secure(client: Client): Promise<void> {
    const { address, start_tls } = this.options.config;
    if (start_tls && address.scheme === 'ldap') await client.startTLS(this.tlsOptions);
  }

  private unavailable(error: unknown, detail: string): Error {
    if (error instanceof UserDirectoryUnavailableError) return error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new UserDirectoryUnavailableError(error, `${detail} at ${this.options.config.address.url} (${reason})`);
  }
}

/** Every value of `attribute` as text (ldapts gives a string, a list, or buffers for binary syntaxes). */
function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  if (key === undefined) return [];
  const raw = entry[key]!;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value));
}

/**
 * Authelia's `pooling`: up to `count` service-bound connections reused; an operation waits up to `timeout` for one,
 * and a connection that fails is closed and replaced, up to `retries` times, before the operation fails.
 */
class ConnectionPool {
  private readonly idle: Client[] = [];
  private open = 0;
  private readonly waiters: ((client: Client | undefined) => void)[] = [];
  private closed = false;

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly settings: { count: number; retries: number; timeout: number },
  ) {}

  async use<T>(run: (client: Client) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.settings.retries; attempt++) {
      const client = await this.acquire();
      try {
        const result = await run(client);
        this.release(client);
        return result;
      } catch (error) {
        lastError = error;
        this.discard(client);
        // A result code is the directory's answer, not a broken connection: retrying would ask again for nothing.
        if (error instanceof ResultCodeError) throw error;
      }
    }
    throw lastError;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    await Promise.allSettled(this.idle.splice(0).map((client) => client.unbind()));
  }

  private async acquire(): Promise<Client> {
    if (this.closed) throw new Error('connection pool closed');
    const idle = this.idle.pop();
    if (idle?.isConnected && idle.isBound) return idle;
    if (idle) this.discard(idle);
    if (this.open < this.settings.count) {
      this.open += 1;
      try {
        return await this.connect();
      } catch (error) {
        this.open -= 1;
        throw error;
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const client = await new Promise<Client | undefined>((resolve) => {
      const waiter = (client: Client | undefined) => {
        clearTimeout(timer);
        resolve(client);
      };
      this.waiters.push(waiter);
      timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, this.settings.timeout * 1000);
    });
    if (client === undefined) throw new Error('no pooled directory connection became free in time');
    return client;
  }

  private release(client: Client): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(client);
    else if (this.closed) this.discard(client);
    else this.idle.push(client);
  }

  private discard(client: Client): void {
    this.open -= 1;
    void client.unbind().catch(() => undefined);
    // A waiter may now open a connection of its own.
    const waiter = this.waiters.shift();
    if (waiter)
      void this.connect().then(
        (fresh) => {
          this.open += 1;
          waiter(fresh);
        },
        () => waiter(undefined),
      );
  }
}
