// The composition root: configuration in, real adapters wired, one server out. Tests build Gatehouse through
// here too, swapping adapters (another Redis prefix, an embedded store) rather than mocking them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load.js';
import { createLogger } from './observability/logger.js';
import { SecurityEvents } from './observability/events.js';
import { Metrics } from './observability/metrics.js';
import { Outages } from './observability/outages.js';
import { SessionStoreUnavailableError } from './observability/backend-errors.js';
import { openStorage } from './storage/open.js';
import type { Storage } from './storage/storage.js';
import { StorageUnavailableError } from './observability/backend-errors.js';
import type { SessionStore } from './session/store.js';
import {
  clusterNodeClientOptions,
  createRedisSessionStore,
  isRedisCluster,
  redisClientOptions,
  type RedisSessionStore,
} from './session/redis-store.js';
import { SessionCache } from './session/session-cache.js';
import { type InvalidationFeed, RedisInvalidationFeed } from './session/invalidation.js';
import { RedisClusterInvalidationFeed } from './session/cluster-invalidation.js';
import { sessionKeyPrefix } from './session/crypto.js';
import { MemorySessionStore } from './session/memory-store.js';
import { SessionService } from './session/service.js';
import { safeText } from './text/safe-text.js';
import type { UserDetails, UserProvider } from './users/provider.js';
import { FileUserProvider, type UsersChange } from './users/file-provider.js';
import { LdapUserProvider } from './users/ldap-provider.js';
import { PasswordChecker } from './users/password-check.js';
import { Regulator } from './regulation/regulator.js';
import { AuthenticationLogPruner, authenticationLogRetentionSeconds } from './regulation/log-pruner.js';
import { compileAccessControl } from './authz/rules.js';
import { createAuthzHandler } from './authz/handler.js';
import { TrustedProxies } from './authz/ip.js';
import { createPortalApp } from './http/portal-app.js';
import { createGatehouseServer } from './http/server.js';
import { SignIn } from './web/sign-in.js';
import { createNotifier } from './notify/open.js';
import type { Notifier } from './notify/notifier.js';
import { IdentityVerifier } from './identity/tokens.js';
import { IdentityTokenKeys } from './authz/identity-token-keys.js';
import { IdentityTokens, identityTokenSettings, identityTokensWanted } from './authz/identity-token.js';
import { type FrontOwner, startFrontOwner } from './front/owner.js';
import { HashSlots } from './users/hash-slots.js';

export interface Adapters {
  storage: Storage;
  sessionStore: SessionStore;
  users: UserProvider;
}

export interface GatehouseOptions {
  loaded: LoadedConfig;
  logger?: Logger;
  /** Replace a real adapter (tests); whatever is given here is closed by `close()` too. */
  adapters?: Partial<Adapters>;
  /** Failure floors in ms: SPEC asks about 2 s for Basic credentials; tests shorten them. */
  timing?: {
    firstFactorFailureFloorMs?: number;
    basicFailureFloorMs?: number;
    /** How often the authz front worker is pinged, and after how long unanswered it is hung (front/watchdog.ts). */
    frontWatchdog?: { everyMs: number; hungAfterMs: number };
  };
  /**
   * The authz front worker stopped unasked or hung: the replica no longer answers on its port. Default: logged as fatal and
   * the process exits with status 1 (systemd or Docker starts it again); tests observe it instead.
   */
  onFatal?: (error: Error) => void;
}

export interface Gatehouse {
  /** The main thread's server: on `server.address`, or behind the authz front worker on its private socket. */
  server: Server;
  /** The authz front worker's owner, when `server.authz_thread` is on and there is a session cache to mirror. */
  front?: FrontOwner;
  metricsServer?: Server;
  logger: Logger;
  adapters: Adapters;
  /** The services built over the adapters (tests use them to set up state such as a level-2 session). */
  services: { sessions: SessionService };
  /** Listens on `server.address` (or the given port/host); resolves with the bound address. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight requests finish, closes pools. */
  close(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 2_000;
/** A failed start exits within about two seconds of the error: closing what was opened may take this long at most. */
export const START_FAILURE_CLOSE_MS = 1_000;

export async function createGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  // Warnings include one per secret generated for this process (no Redis, no secret configured).
  const { config, warnings } = options.loaded;
  const logger = options.logger ?? createLogger(config.log);
  for (const warning of warnings) logger.warn(warning);

  // Whatever is opened is closed again if start-up fails further on: a Redis client left reconnecting (or a
  // pool, a file watcher) would keep a process that failed to start alive forever.
  const opened: Array<() => Promise<void>> = [];
  try {
    return await build(options, logger, opened);
  } catch (error) {
    await closeWithin(opened, START_FAILURE_CLOSE_MS);
    throw error;
  }
}

/** Closes in reverse order of opening, waiting at most `ms` in all (a hung pool must not hold a failed start). */
async function closeWithin(opened: ReadonlyArray<() => Promise<void>>, ms: number): Promise<void> {
  const all = Promise.allSettled([...opened].reverse().map((close) => close()));
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

async function build(
  options: GatehouseOptions,
  logger: Logger,
  opened: Array<() => Promise<void>>,
): Promise<Gatehouse> {
  const { config, cookies } = options.loaded;
  // First: a notifier that fails its check stops start-up before any pool is opened.
  const notifier = await startNotifier(config.notifier, logger);
  opened.push(() => notifier.close());
  const storage = options.adapters?.storage ?? (await openStorage(config.storage, logger));
  opened.push(() => storage.close());
  const applied = await storage.migrate();
  if (applied.length > 0) logger.info({ migrations: applied }, 'storage migrated');

  // Metrics and the outage log first: the Redis client reports its connection from the moment it is created.
  const metrics = config.telemetry.metrics.enabled ? new Metrics() : undefined;
  const outages = new Outages(logger, metrics);
  opened.push(async () => outages.close());
  const sessionStore = options.adapters?.sessionStore ?? openSessionStore(config.session.redis, logger, outages);
  outages.setProbe('redis', () => sessionStore.ping());
  outages.setProbe('storage', () => storage.ping());
  opened.push(() => sessionStore.close());
  const sessionCache = options.adapters?.sessionStore
    ? undefined
    : openSessionCache(config.session.redis, sessionStore, logger, metrics);
  if (sessionCache) opened.push(() => sessionCache.feed.close());
  const sessions = new SessionService(sessionStore, {
    secret: config.session.secret!,
    keyPrefix: config.session.redis?.key_prefix,
    cache: sessionCache?.cache,
  });
  const users = options.adapters?.users ?? (await openUsers(config.authentication_backend, logger));
  opened.push(() => users.close());
  if (users instanceof FileUserProvider)
    users.onChange((change) => void endSessionsOfGoneUsers(change, sessions, logger));
  const adapters: Adapters = { storage, sessionStore, users };

  const regulator = new Regulator(storage, config.regulation);
  // Old attempts are deleted in the background (now, then hourly); stopped before storage is closed.
  const pruner = new AuthenticationLogPruner(storage, logger, {
    retentionSeconds: authenticationLogRetentionSeconds(config),
  });
  opened.push(() => pruner.stop());
  pruner.start();
  const passwords = new PasswordChecker(
    users,
    regulator,
    sessions,
    config.regulation.modes,
    undefined,
    new SecurityEvents(logger),
  );
  const access = compileAccessControl(config.access_control, config.definitions);
  const verifier = new IdentityVerifier(storage, {
    secret: config.identity_validation.jwt_secret!,
    lifetimeSeconds: config.identity_validation.token_lifetime,
  });

  // Signed identity tokens (identity_token): keys shared through storage, loaded before the first request and
  // refreshed in the background; without a loaded key a token pass is a 503, never a pass without the token.
  const tokenSettings = identityTokenSettings(config);
  let tokenKeys: IdentityTokenKeys | undefined;
  if (identityTokensWanted(tokenSettings)) {
    tokenKeys = new IdentityTokenKeys(storage, {
      algorithm: config.identity_token.algorithm,
      rotationSeconds: config.identity_token.key_rotation,
      tokenLifetimeSeconds: config.identity_token.lifetime,
      secret: config.identity_token.encryption_key ?? config.session.secret!,
      logger,
    });
    const keys = tokenKeys;
    opened.push(() => keys.stop());
    await keys.start();
  }
  const identityTokens = tokenKeys && new IdentityTokens(tokenSettings, (now) => tokenKeys.signingKey(now));

  const trustedProxies = new TrustedProxies(config.server.trusted_proxies);
  const authz = createAuthzHandler({
    identityTokens,
    cookies,
    sessions,
    users,
    access,
    passwords,
    logger,
    metrics,
    trustedProxies,
    outages,
    basicFailureFloorMs: options.timing?.basicFailureFloorMs ?? 2_000,
  });
  const signIn = new SignIn(sessions, access, cookies);
  const portal = createPortalApp({
    cookies,
    sessions,
    users,
    passwords,
    logger,
    trustedProxies,
    signIn,
    passkeyLogin: config.webauthn.enable_passkey_login && !config.webauthn.disable,
    failureFloorMs: options.timing?.firstFactorFailureFloorMs ?? 1_000,
    // Each bounded and typed, so a failure names its backend (and counts as that backend's 503).
    healthCheck: async () => {
      await Promise.all([
        withTimeout(sessionStore.ping(), HEALTH_TIMEOUT_MS).catch((error: unknown) => {
          throw error instanceof SessionStoreUnavailableError ? error : new SessionStoreUnavailableError(error);
        }),
        withTimeout(storage.ping(), HEALTH_TIMEOUT_MS).catch((error: unknown) => {
          throw error instanceof StorageUnavailableError
            ? error
            : new StorageUnavailableError(error, 'no answer to the health check');
        }),
      ]);
    },
    outages,
    jwks: tokenKeys,
    identity: {
      sessions,
      locks: sessions,
      storage,
      verifier,
      notifier,
      users,
      logger,
      elevationLifetimeSeconds: config.identity_validation.elevation_lifetime,
    },
    webauthn: {
      webauthn: config.webauthn,
      elevationLifetime: config.identity_validation.elevation_lifetime,
      storage,
      sessions,
      users,
      signIn,
      regulator,
      notifier,
      logger,
    },
    securityPages: {
      storage,
      verifier,
      webauthnEnabled: !config.webauthn.disable,
      passkeyLogin: config.webauthn.enable_passkey_login && !config.webauthn.disable,
    },
  });
  // With the front worker, this server is reached only through it, on a private socket (front/owner.ts).
  const fronted = config.server.authz_thread && sessionCache !== undefined;
  const server = createGatehouseServer(authz, portal, config.server.endpoints.authz, {
    forwardedOnly: fronted
      ? { onRefused: () => logger.warn('a request reached the private listener without the front worker: refused') }
      : undefined,
  });
  if (fronted) server.keepAliveTimeout = 0; // the front's kept connections are never closed under it while idle
  const front =
    fronted && sessionCache
      ? startFrontOwner({
          settings: {
            endpoints: config.server.endpoints.authz,
            accessControl: config.access_control,
            definitions: config.definitions,
            trustedProxies: config.server.trusted_proxies,
            identityTokens: identityTokensWanted(tokenSettings)
              ? { header: tokenSettings.header, domains: [...tokenSettings.domains], rules: [...tokenSettings.rules] }
              : undefined,
            metrics: metrics !== undefined,
          },
          cookies,
          server,
          cache: sessionCache.cache,
          sessions,
          users: usersForFront(users),
          metrics,
          logger,
          watchdog: options.timing?.frontWatchdog,
          onFatal:
            options.onFatal ??
            ((error) => {
              logger.fatal({ err: error }, 'gatehouse cannot answer on its port: stopping');
              process.exit(1);
            }),
        })
      : undefined;
  if (front) opened.push(() => front.close());
  const metricsServer = metrics ? createMetricsServer(metrics) : undefined;

  return {
    server,
    metricsServer,
    logger,
    adapters,
    services: { sessions },
    front,
    async listen(port = config.server.address.port, host = config.server.address.host) {
      if (metricsServer)
        await listenOn(
          metricsServer,
          config.telemetry.metrics.address.port,
          config.telemetry.metrics.address.host,
          'telemetry.metrics',
        );
      const address = front
        ? await front.listen(port, host).catch((error: NodeJS.ErrnoException) => {
            throw listenError(error, port, host, 'server');
          })
        : await listenOn(server, port, host, 'server');
      logger.info({ address: `${address.address}:${address.port}` }, 'gatehouse listening');
      return address;
    },
    async close() {
      // The front first: it stops taking requests and lets those it forwarded finish on the main server.
      await front?.close();
      await Promise.all([stopServer(server), metricsServer ? stopServer(metricsServer) : undefined]);
      outages.close();
      await pruner.stop();
      await tokenKeys?.stop();
      await Promise.allSettled([
        users.close(),
        sessionCache?.feed.close(),
        sessionStore.close(),
        storage.close(),
        notifier.close(),
      ]);
      logger.info('gatehouse stopped');
    },
  };
}

/** What the front worker may hold of the users: the users file's, whole; none of a directory's (it forwards those). */
function usersForFront(users: UserProvider): {
  now(): UserDetails[] | null;
  onChange?(listener: () => void): () => void;
} {
  if (!(users instanceof FileUserProvider)) return { now: () => null };
  return { now: () => users.all(), onChange: (listener) => users.onChange(listener) };
}

/** The users file, or the LDAP directory when configured (a directory that cannot be reached stops the start). */
async function openUsers(
  backend: LoadedConfig['config']['authentication_backend'],
  logger: Logger,
): Promise<UserProvider> {
  if (backend.ldap !== undefined) {
    const ldap = new LdapUserProvider({ config: backend.ldap, refreshInterval: backend.refresh_interval, logger });
    try {
      await ldap.check();
    } catch (error) {
      await ldap.close();
      throw error;
    }
    logger.info(
      { address: backend.ldap.address.url, refreshInterval: backend.refresh_interval },
      'user directory reached',
    );
    return ldap;
  }
  return FileUserProvider.open({
    path: backend.file.path,
    watch: backend.file.watch,
    logger,
    // Unknown users are checked against a hash made like the real ones, so they cost the same time.
    dummyHashParams: backend.file.password.argon2,
    // Unset: HashSlots' own default (every core but one).
    hashSlots: new HashSlots(backend.file.password.concurrent_checks),
  });
}

function openSessionStore(
  redis: LoadedConfig['config']['session']['redis'],
  logger: Logger,
  outages: Outages,
): SessionStore {
  if (redis) return createRedisSessionStore(redis, logger, outages.reporter('redis'));
  logger.warn('sessions are kept in memory: run a single replica, or configure session.redis');
  return new MemorySessionStore();
}

/**
 * With Redis, warm sessions are answered from memory while Redis reports every change of a session key to this
 * process (session/invalidation.ts); `local_cache.max_entries: 0` turns it off (every load reads Redis, as before).
 * The memory store needs none: it is in this process already.
 */
function openSessionCache(
  redis: LoadedConfig['config']['session']['redis'],
  store: SessionStore,
  logger: Logger,
  metrics: Metrics | undefined,
): { cache: SessionCache; feed: InvalidationFeed } | undefined {
  if (!redis || redis.local_cache.max_entries === 0) return undefined;
  const cache = new SessionCache(
    { maxEntries: redis.local_cache.max_entries, maxBytes: redis.local_cache.max_bytes },
    metrics,
  );
  const prefix = sessionKeyPrefix(redis.key_prefix);
  let feed: InvalidationFeed;
  if (isRedisCluster(redis)) {
    // Tracking is per node: a feed per primary, following the cluster's view through the store's own client
    // (session/cluster-invalidation.ts), so the feeds are on the very nodes its reads go to.
    if (!('client' in store)) return undefined;
    feed = new RedisClusterInvalidationFeed({
      cluster: (store as RedisSessionStore).client,
      nodeOptions: (node) => clusterNodeClientOptions(redis, node),
      prefix,
      sink: cache,
      logger,
    });
  } else feed = new RedisInvalidationFeed({ redis: redisClientOptions(redis), prefix, sink: cache, logger });
  feed.start();
  return { cache, feed };
}

/** A notifier that cannot deliver stops start-up (unless `disable_startup_check`): identity links would be lost. */
async function startNotifier(config: LoadedConfig['config']['notifier'], logger: Logger): Promise<Notifier> {
  const notifier = createNotifier(config, logger);
  try {
    await notifier.startupCheck();
  } catch (error) {
    await notifier.close();
    throw new Error(`notifier startup check failed: ${(error as Error).message}`, { cause: error });
  }
  return notifier;
}

function createMetricsServer(metrics: Metrics): Server {
  return createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(body);
  });
}

/** A sentence naming what could not listen where and why (the start-up's last words). */
function listenError(error: NodeJS.ErrnoException, port: number, host: string | undefined, what: string): Error {
  const where = `${host ?? '0.0.0.0'}:${port}`;
  const why =
    error.code === 'EADDRINUSE'
      ? 'the address is already in use (another process listens there)'
      : error.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : error.code === 'EADDRNOTAVAIL'
          ? 'no network interface has this address'
          : error.message;
  return new Error(`${what} cannot listen on ${where}: ${why}`, { cause: error });
}

/** Listens, or rejects with a sentence naming what could not listen where and why (the start-up's last words). */
function listenOn(server: Server, port: number, host: string | undefined, what = 'server'): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host, what));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stop accepting, drop idle keep-alive connections, wait for in-flight requests (bounded). */
function stopServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * A user removed from the users file, or disabled in it, loses every session at once (issue 11), not only at the
 * next request (which refuses them anyway: the users file is read on every one). Every replica hears its own reload
 * and does the same; ending sessions already ended ends nothing, so that is harmless.
 */
async function endSessionsOfGoneUsers(change: UsersChange, sessions: SessionService, logger: Logger): Promise<void> {
  const gone = [...new Set([...change.removed, ...change.disabled])];
  for (const username of gone) {
    const reason = change.removed.includes(username) ? 'removed' : 'disabled';
    try {
      const ended = await sessions.revokeUser(username);
      logger.info({ user: safeText(username), reason, ended }, 'sessions of a user removed or disabled ended');
    } catch (error) {
      // The authz path and the portal still refuse them at their next request; only the early end failed.
      logger.error(
        { err: error, user: safeText(username), reason },
        'could not end the sessions of a user removed or disabled',
      );
    }
  }
}
