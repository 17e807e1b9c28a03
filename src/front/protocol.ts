// What the main thread and the front worker say to each other (docs/design/authz-isolate.md), over the worker's own
// port: one ordered channel, so a users snapshot or a cache change is never overtaken by a later beat.
import type { AccessControlConfig, DefinitionsConfig } from '../config/schema.js';
import type { AuthzEndpoint } from '../config/authz-endpoints.js';
import type { CookieSettings } from '../config/cookies.js';
import type { Network } from '../config/networks.js';
import type { MirrorMessage } from '../session/session-mirror.js';
import type { UserDetails } from '../users/provider.js';
import type { AuthzResult } from '../observability/metrics.js';

/** A cookie domain's settings as they cross to the worker: a URL does not survive structured cloning, its href does. */
export type PostedCookie = Omit<CookieSettings, 'portalUrl' | 'defaultRedirectionUrl'> & {
  portalUrl: string;
  defaultRedirectionUrl?: string;
};

/** The worker's `workerData`: what it needs to answer, all of it plain data. */
export interface FrontSettings {
  /** The main thread's private listener, where everything the worker does not answer goes. */
  socketPath: string;
  endpoints: readonly AuthzEndpoint[];
  cookies: readonly PostedCookie[];
  accessControl: AccessControlConfig;
  definitions: DefinitionsConfig | undefined;
  trustedProxies: readonly Network[];
  /** Identity tokens wanted: per cookie domain and per rule (identity-token.ts); absent: none configured. */
  identityTokens?: { header: string; domains: string[]; rules: (boolean | undefined)[] };
  /** The mirror answers only within this long of the main thread's last beat. */
  maxSilenceMs: number;
  /** The main logger's level: the worker's lines are written by the main thread, in its format. */
  logLevel: string;
  /** Whether to count answers for `telemetry.metrics`. */
  metrics: boolean;
}

/** From the main thread. */
export type ToFront =
  | MirrorMessage
  /** Every user of the users file, after each reload; null: a backend whose users the worker cannot hold (LDAP). */
  | { kind: 'users'; users: UserDetails[] | null }
  | { kind: 'listen'; port: number; host: string | undefined }
  | { kind: 'close' }
  /** Is the worker's event loop turning? (front/watchdog.ts) */
  | { kind: 'ping' }
  /** How many connections the worker has accepted (operators' and tests' view of connection reuse). */
  | { kind: 'stats' };

/** From the worker. */
export type FromFront =
  | { kind: 'listening'; address: { address: string; family: string; port: number } }
  | { kind: 'listen-failed'; code: string | undefined; message: string }
  /** A session whose activity is due to be refreshed (the main thread writes it, from its own cache). */
  | { kind: 'touch'; id: string; domain: string }
  /** Answers given since the last report, for the metrics: result and seconds, pairwise. */
  | { kind: 'observed'; results: AuthzResult[]; seconds: number[] }
  /** One log line, as pino wrote it (JSON). */
  | { kind: 'log'; line: string }
  | { kind: 'closed' }
  | { kind: 'pong' }
  | { kind: 'stats'; connectionsAccepted: number };
