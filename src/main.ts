// The composition root: configuration in, real adapters wired, one server out. Tests build Gatehouse through
// here too, swapping adapters (another Redis prefix, an embedded store) rather than mocking them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load.js';
import { createLogger } from './observability/logger.js';
import { SecurityEvents } from './observability/events.js';
import { Metrics } from './observability/metrics.js';
import { openStorage } from './storage/open.js';
import type { Storage } from './storage/storage.js';
import type { SessionStore } from './session/store.js';
import { createRedisSessionStore } from './session/redis-store.js';
import { MemorySessionStore } from './session/memory-store.js';
import { SessionService } from './session/service.js';
import type { UserProvider } from './users/provider.js';
import { FileUserProvider } from './users/file-provider.js';
import { PasswordChecker } from './users/password-check.js';
import { Regulator } from './regulation/regulator.js';
import { compileAccessControl } from './authz/rules.js';
import { createAuthzHandler } from './authz/handler.js';
import { TrustedProxies } from './authz/ip.js';
import { createPortalApp } from './http/portal-app.js';
import { createGatehouseServer } from './http/server.js';
import { SignIn } from './portal/sign-in.js';
import { createNotifier } from './notify/open.js';
import type { Notifier } from './notify/notifier.js';
import { IdentityVerifier } from './identity/tokens.js';

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
  timing?: { firstFactorFailureFloorMs?: number; basicFailureFloorMs?: number };
}

export interface Gatehouse {
  server: Server;
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

export async function createGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  // Warnings include one per secret generated for this process (no Redis, no secret configured).
  const { config, cookies, warnings } = options.loaded;
  const logger = options.logger ?? createLogger(config.log);
  for (const warning of warnings) logger.warn(warning);

  // First: a notifier that fails its check stops start-up before any pool is opened.
  const notifier = await startNotifier(config.notifier, logger);
  const storage = options.adapters?.storage ?? (await openStorage(config.storage, logger));
  const applied = await storage.migrate();
  if (applied.length > 0) logger.info({ migrations: applied }, 'storage migrated');

  const sessionStore = options.adapters?.sessionStore ?? openSessionStore(config.session.redis, logger);
  const sessions = new SessionService(sessionStore, { secret: config.session.secret!, keyPrefix: config.session.redis?.key_prefix });
  const users = options.adapters?.users
    ?? (await FileUserProvider.open({
      path: config.authentication_backend.file.path,
      watch: config.authentication_backend.file.watch,
      logger,
      // Unknown users are checked against a hash made like the real ones, so they cost the same time.
      dummyHashParams: config.authentication_backend.file.password.argon2,
    }));
  const adapters: Adapters = { storage, sessionStore, users };

  const regulator = new Regulator(storage, config.regulation);
  const passwords = new PasswordChecker(users, regulator, sessions, config.regulation.modes, undefined, new SecurityEvents(logger));
  const access = compileAccessControl(config.access_control, config.definitions);
  const metrics = config.telemetry.metrics.enabled ? new Metrics() : undefined;
  const verifier = new IdentityVerifier(storage, {
    secret: config.identity_validation.jwt_secret!,
    lifetimeSeconds: config.identity_validation.token_lifetime,
  });

  const trustedProxies = new TrustedProxies(config.server.trusted_proxies);
  const authz = createAuthzHandler({
    cookies, sessions, users, access, passwords, logger, metrics, trustedProxies,
    basicFailureFloorMs: options.timing?.basicFailureFloorMs ?? 2_000,
  });
  const signIn = new SignIn(sessions, access, cookies);
  const portal = createPortalApp({
    cookies, sessions, users, passwords, logger, trustedProxies,
    signIn,
    passkeyLogin: config.webauthn.enable_passkey_login && !config.webauthn.disable,
    failureFloorMs: options.timing?.firstFactorFailureFloorMs ?? 1_000,
    healthCheck: async () => { await withTimeout(Promise.all([sessionStore.ping(), storage.ping()]), HEALTH_TIMEOUT_MS); },
    identity: { sessions, storage, verifier, notifier, users, logger, elevationLifetimeSeconds: config.identity_validation.elevation_lifetime },
    webauthn: {
      webauthn: config.webauthn, elevationLifetime: config.identity_validation.elevation_lifetime,
      storage, sessions, users, signIn, regulator, notifier, logger,
    },
    securityPages: { storage, webauthnEnabled: !config.webauthn.disable },
  });
  const server = createGatehouseServer(authz, portal, config.server.endpoints.authz);
  const metricsServer = metrics ? createMetricsServer(metrics) : undefined;

  return {
    server,
    metricsServer,
    logger,
    adapters,
    services: { sessions },
    async listen(port = config.server.address.port, host = config.server.address.host) {
      if (metricsServer) await listenOn(metricsServer, config.telemetry.metrics.address.port, config.telemetry.metrics.address.host);
      const address = await listenOn(server, port, host);
      logger.info({ address: `${address.address}:${address.port}` }, 'gatehouse listening');
      return address;
    },
    async close() {
      await Promise.all([stopServer(server), metricsServer ? stopServer(metricsServer) : undefined]);
      await Promise.allSettled([users.close(), sessionStore.close(), storage.close(), notifier.close()]);
      logger.info('gatehouse stopped');
    },
  };
}

function openSessionStore(redis: LoadedConfig['config']['session']['redis'], logger: Logger): SessionStore {
  if (redis) return createRedisSessionStore(redis, logger);
  logger.warn('sessions are kept in memory: run a single replica, or configure session.redis');
  return new MemorySessionStore();
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

function listenOn(server: Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
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
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}
