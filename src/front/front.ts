// The front worker (docs/design/authz-isolate.md): it owns `server.address`, answers the authz questions that need no
// I/O from the mirror of the main thread's session cache, and forwards everything else, unchanged, to the main
// thread's server on a private Unix socket. Its isolate never loads Redis, SQL, Express, LDAP or SMTP libraries
// (test/unit/architecture/front-isolate.test.ts): that is what makes its answers cost what a bare node:http server's do.
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { createAuthzHandler } from '../authz/handler.js';
import { tokenWanted } from '../authz/identity-token.js';
import { TrustedProxies } from '../authz/ip.js';
import { compileAccessControl } from '../authz/rules.js';
import type { CookieSettings } from '../config/cookies.js';
import { createGatehouseServer } from '../http/server.js';
import { loggerOptions } from '../observability/logger.js';
import type { AuthzMetrics, AuthzResult } from '../observability/metrics.js';
import { monotonicMs, SessionMirror } from '../session/session-mirror.js';
import type { UserDetails } from '../users/provider.js';
import { createForwarder } from './forward.js';
import { MirroredSessions } from './mirrored-sessions.js';
import type { FromFront, FrontSettings, PostedCookie, ToFront } from './protocol.js';

/** Answers are counted here and reported this often (and when this many are waiting). */
const REPORT_MS = 1_000;
const REPORT_MAX = 4_096;

/** The port to the main thread: the worker's `parentPort`, or a MessageChannel's end in tests. */
export interface FrontPort {
  postMessage(message: FromFront): void;
  on(event: 'message', listener: (message: ToFront) => void): unknown;
}

/** Rebuilds a cookie domain's settings: its URLs crossed the thread boundary as hrefs. */
export function cookieFromPost(posted: PostedCookie): CookieSettings {
  const { portalUrl, defaultRedirectionUrl, ...rest } = posted;
  return {
    ...rest,
    portalUrl: new URL(portalUrl),
    ...(defaultRedirectionUrl === undefined ? {} : { defaultRedirectionUrl: new URL(defaultRedirectionUrl) }),
  };
}

/** The users as the main thread last posted them; none for a backend the worker cannot hold (the main thread asks it). */
export class PostedUsers {
  #byName = new Map<string, UserDetails>();

  /**
   * Frozen again, as the provider hands them out: structured cloning drops that, and the rules' decisions are
   * remembered only for a user record that cannot change in place (authz/decision-memo.ts).
   */
  replace(users: readonly UserDetails[] | null): void {
    this.#byName = new Map(
      (users ?? []).map((user) => {
        Object.freeze(user.emails);
        Object.freeze(user.groups);
        return [user.username, Object.freeze(user)];
      }),
    );
  }

  get(username: string): UserDetails | undefined {
    return this.#byName.get(username);
  }
}

/** Counts answers for the main thread's metrics, in batches (a message per answer would cost more than the answer). */
class PostedMetrics implements AuthzMetrics {
  #results: AuthzResult[] = [];
  #seconds: number[] = [];
  readonly #post: (message: FromFront) => void;

  constructor(post: (message: FromFront) => void) {
    this.#post = post;
  }

  observe(result: AuthzResult, seconds: number): void {
    this.#results.push(result);
    this.#seconds.push(seconds);
    if (this.#results.length >= REPORT_MAX) this.report();
  }

  report(): void {
    if (this.#results.length === 0) return;
    this.#post({ kind: 'observed', results: this.#results, seconds: this.#seconds });
    this.#results = [];
    this.#seconds = [];
  }
}

/** Logs as the main thread's logger does: each line is handed to it, and written where and how it writes its own. */
function postingLogger(level: string, post: (message: FromFront) => void): Logger {
  return pino(loggerOptions(level), { write: (line: string) => post({ kind: 'log', line }) });
}

/** Starts the front on `port`; it listens when the main thread says where. */
export function runFront(settings: FrontSettings, port: FrontPort): { server: Server } {
  const post = (message: FromFront) => port.postMessage(message);
  const logger = postingLogger(settings.logLevel, post);
  const cookies = settings.cookies.map(cookieFromPost);
  const mirror = new SessionMirror({ maxSilenceMs: settings.maxSilenceMs }, monotonicMs);
  const users = new PostedUsers();
  const metrics = settings.metrics ? new PostedMetrics(post) : undefined;
  const reporting = metrics ? setInterval(() => metrics.report(), REPORT_MS) : undefined;
  const forwarder = createForwarder(settings.socketPath, (error) =>
    logger.warn({ err: error }, 'a request could not be passed to the main thread (answered 502)'),
  );
  const tokens = settings.identityTokens;
  const tokenSettings = tokens && { domains: new Set(tokens.domains), rules: tokens.rules };
  const authz = createAuthzHandler({
    cookies,
    sessions: new MirroredSessions(mirror, (id, domain) => post({ kind: 'touch', id, domain })),
    users,
    access: compileAccessControl(settings.accessControl, settings.definitions),
    logger,
    metrics,
    trustedProxies: new TrustedProxies(settings.trustedProxies),
    // Tokens are signed by the main thread, which holds the keys: a pass that wants one is its to answer.
    identityTokens: tokenSettings && {
      header: tokens.header,
      wanted: (cookie, rule) => tokenWanted(tokenSettings, cookie, rule),
      cached: () => undefined,
    },
    offload: forwarder.forward,
  });
  // The main thread's server gives portal answers their X-Request-Id; they come back with it.
  const server = createGatehouseServer(authz, forwarder.forward, settings.endpoints, { tagPortalRequests: false });
  let connectionsAccepted = 0;
  server.on('connection', () => connectionsAccepted++);

  port.on('message', (message) => {
    switch (message.kind) {
      case 'fresh':
      case 'stale':
      case 'none':
      case 'beat':
        mirror.apply(message);
        break;
      case 'users':
        users.replace(message.users);
        break;
      case 'listen':
        listen(server, message.port, message.host, post);
        break;
      case 'stats':
        post({ kind: 'stats', connectionsAccepted });
        break;
      case 'ping':
        post({ kind: 'pong' });
        break;
      case 'close':
        // Nothing more is heard of the sessions: everything still asked while draining goes to the main thread.
        mirror.apply({ kind: 'none' });
        clearInterval(reporting);
        server.close(() => {
          metrics?.report();
          forwarder.close();
          post({ kind: 'closed' });
        });
        server.closeIdleConnections();
        break;
    }
  });
  return { server };
}

function listen(server: Server, port: number, host: string | undefined, post: (message: FromFront) => void): void {
  const onError = (error: NodeJS.ErrnoException) =>
    post({ kind: 'listen-failed', code: error.code, message: error.message });
  server.once('error', onError);
  server.listen(port, host, () => {
    server.off('error', onError);
    const address = server.address();
    if (address === null || typeof address === 'string')
      post({ kind: 'listen-failed', code: undefined, message: `unexpected address ${String(address)}` });
    else post({ kind: 'listening', address: { address: address.address, family: address.family, port: address.port } });
  });
}
