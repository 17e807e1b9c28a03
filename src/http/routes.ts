// Every route of the portal, with the guards it needs, in one table read top to bottom (the authz endpoints are
// answered outside Express, by http/server.ts, at the paths of `server.endpoints.authz`). The guards are applied
// from the declaration, in this order, before the handler runs:
//   origin     the cross-site request guard (web/origin-guard.ts): Origin / Fetch Metadata, JSON bodies only;
//   level      the signed-in level (web/guards.ts): anonymous, 1FA (password or passkey) or 2FA;
//   elevation  a fresh proof of identity: the emailed link (`identity`), or that or a recent second factor.
// A row marked `webauthn` exists only while WebAuthn is on, `passkeys` only with passkey sign-in too; a request
// for a row that does not exist falls through to the last row: the origin guard, then 404.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { originGuard } from '../web/origin-guard.js';
import {
  requireElevation,
  requireLevel,
  type ElevationClock,
  type RequiredElevation,
  type RequiredLevel,
} from '../web/guards.js';
import { apiHandlers, type ApiDependencies } from '../portal/api-handlers.js';
import { pageHandlers, type PageDependencies } from '../portal/page-handlers.js';
import { securityPageHandlers } from '../portal/security-page-handlers.js';
import { sessionListHandlers } from '../portal/session-handlers.js';
import { identityHandlers, type IdentityRouteDependencies } from '../identity/handlers.js';
import { webauthnHandlers, type WebAuthnRouteDependencies } from '../webauthn/handlers.js';
import { recoveryCodeHandlers } from '../webauthn/recovery-handlers.js';
import { healthHandler, type HealthDependencies } from './health.js';
import { jwksHandler, type JwksDependencies } from './jwks.js';
import type { Logger } from 'pino';

// --- The guards a row can name ------------------------------------------------------------------------------------

const ORIGIN = { origin: true } as const;
const SIGNED_IN = { level: '1FA' } as const;
const TWO_FACTORS = { level: '2FA' } as const;
/** The emailed identity check, still running (registering a key, SPEC §5). */
const ELEVATED = { elevation: 'identity' } as const;
/** Elevated, or a second factor passed within `elevation_lifetime` (renaming and deleting keys, SPEC §6). */
const RECENTLY_PROVEN = { elevation: 'identity-or-2fa' } as const;
const WEBAUTHN = { when: 'webauthn' } as const;
const PASSKEYS = { when: 'passkeys' } as const;
/** Answered for any Host, before the portal context (monitors). */
const ANY_HOST = { anyHost: true } as const;

type Guard =
  | typeof ORIGIN
  | typeof SIGNED_IN
  | typeof TWO_FACTORS
  | typeof ELEVATED
  | typeof RECENTLY_PROVEN
  | typeof WEBAUTHN
  | typeof PASSKEYS
  | typeof ANY_HOST;

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One row of the table, as declared. */
export interface PortalRoute {
  method: Method | 'ANY';
  path: string;
  /** A page answers a refusal with the message page; the JSON API with `{"status":"KO"}`. */
  kind: 'page' | 'api';
  origin: boolean;
  level: RequiredLevel;
  elevation: RequiredElevation;
  /** The switch the row exists under: always, while WebAuthn is on, or with passkey sign-in too. */
  when: 'always' | 'webauthn' | 'passkeys';
  anyHost: boolean;
  handler: HandlerName;
}

function row(method: PortalRoute['method'], path: string, handler: HandlerName, ...guards: Guard[]): PortalRoute {
  const declared: Partial<PortalRoute> = Object.assign({}, ...guards);
  return {
    method,
    path,
    kind: path.startsWith('/api/') || path === '*' ? 'api' : 'page',
    origin: declared.origin ?? false,
    level: declared.level ?? 'anonymous',
    elevation: declared.elevation ?? 'none',
    when: declared.when ?? 'always',
    anyHost: declared.anyHost ?? false,
    handler,
  };
}

// --- The table ----------------------------------------------------------------------------------------------------

export const PORTAL_ROUTES: readonly PortalRoute[] = [
  row('GET', '/api/health', 'health', ANY_HOST),

  // The portal's pages (SPEC §5). The security-key pages send an anonymous visitor to sign in themselves, after
  // checking their link, so that a dead link says so at once.
  row('GET', '/', 'pages.signIn'),
  row('GET', '/logout', 'pages.logout'),
  row('GET', '/settings', 'pages.settings'),
  row('GET', '/webauthn/register', 'pages.registerLink'),
  row('GET', '/identity/confirm', 'pages.confirmLink'),

  // Sign-in and the session (SPEC §6).
  row('GET', '/api/state', 'api.state'),
  row('POST', '/api/firstfactor', 'api.firstFactor', ORIGIN),
  row('POST', '/api/logout', 'api.logout', ORIGIN),

  // The emailed identity check, which elevates the session.
  row('POST', '/api/identity/start', 'identity.start', ORIGIN, SIGNED_IN),
  row('POST', '/api/identity/finish', 'identity.finish', ORIGIN, SIGNED_IN),

  // Security keys: enrolment, the second factor, passkey sign-in, the user's keys.
  row('POST', '/api/webauthn/registration/options', 'webauthn.registerOptions', ORIGIN, SIGNED_IN, ELEVATED, WEBAUTHN),
  row('POST', '/api/webauthn/registration', 'webauthn.register', ORIGIN, SIGNED_IN, ELEVATED, WEBAUTHN),
  row('POST', '/api/webauthn/authentication/options', 'webauthn.authenticationOptions', ORIGIN, SIGNED_IN, WEBAUTHN),
  row('POST', '/api/webauthn/authentication', 'webauthn.authenticate', ORIGIN, SIGNED_IN, WEBAUTHN),
  row('POST', '/api/webauthn/passkey/options', 'webauthn.passkeyOptions', ORIGIN, PASSKEYS),
  row('POST', '/api/webauthn/passkey', 'webauthn.passkeySignIn', ORIGIN, PASSKEYS),
  row('GET', '/api/webauthn/credentials', 'webauthn.list', SIGNED_IN, WEBAUTHN),
  row('PUT', '/api/webauthn/credentials/:id', 'webauthn.rename', ORIGIN, SIGNED_IN, RECENTLY_PROVEN, WEBAUTHN),
  row('DELETE', '/api/webauthn/credentials/:id', 'webauthn.remove', ORIGIN, SIGNED_IN, RECENTLY_PROVEN, WEBAUTHN),

  // The public keys of the identity tokens upstream apps verify (404 while no domain or rule asks for tokens).
  row('GET', '/.well-known/jwks.json', 'jwks', ANY_HOST),
  // Recovery codes (issue 11): how many are left; a new set behind the same identity check as a new key; a code
  // as the second factor (signed in with the password, like the key it stands in for).
  row('GET', '/api/recovery-codes', 'recovery.summary', SIGNED_IN, WEBAUTHN),
  row('POST', '/api/recovery-codes', 'recovery.generate', ORIGIN, SIGNED_IN, ELEVATED, WEBAUTHN),
  row('POST', '/api/recovery-codes/use', 'recovery.use', ORIGIN, SIGNED_IN, WEBAUTHN),

  // The user's sessions (issue 11): listed and ended by their opaque handles; a first factor is enough (see
  // docs/decisions.md). The page sends an anonymous visitor to sign in itself, like the settings page.
  row('GET', '/settings/sessions', 'pages.sessions'),
  row('GET', '/api/sessions', 'sessions.list', SIGNED_IN),
  row('POST', '/api/sessions/end', 'sessions.end', ORIGIN, SIGNED_IN),
  row('POST', '/api/sessions/end-others', 'sessions.endOthers', ORIGIN, SIGNED_IN),

  // Anything else: 404 (a page for a browser, KO on /api/), after the origin guard like any state change.
  row('ANY', '*', 'notFound', ORIGIN),
];

// --- From declaration to Express ------------------------------------------------------------------------------------

export interface PortalRouteDependencies
  extends ApiDependencies,
    PageDependencies,
    HealthDependencies,
    JwksDependencies {
  logger: Logger;
  /** `/api/identity/*` (SPEC §6). */
  identity: IdentityRouteDependencies;
  /** `/api/webauthn/*` (SPEC §6). */
  webauthn: WebAuthnRouteDependencies;
}

/** Every handler the table names, built once over the app's dependencies. */
function portalHandlers(deps: PortalRouteDependencies, notFound: RequestHandler) {
  const api = apiHandlers(deps);
  const pages = pageHandlers(deps);
  const keyPages = securityPageHandlers(deps.securityPages);
  const identity = identityHandlers(deps.identity);
  const webauthn = webauthnHandlers(deps.webauthn);
  const recovery = recoveryCodeHandlers(deps.webauthn);
  const sessionList = sessionListHandlers(deps);
  return {
    health: healthHandler(deps),
    jwks: jwksHandler(deps),
    'pages.signIn': pages.signInPage,
    'pages.logout': pages.logout,
    'pages.settings': keyPages.settings,
    'pages.registerLink': keyPages.registerLink,
    'pages.confirmLink': keyPages.confirmLink,
    'api.state': api.state,
    'api.firstFactor': api.firstFactor,
    'api.logout': api.logout,
    'identity.start': identity.start,
    'identity.finish': identity.finish,
    'webauthn.registerOptions': webauthn.registrationOptions,
    'webauthn.register': webauthn.register,
    'webauthn.authenticationOptions': webauthn.authenticationOptions,
    'webauthn.authenticate': webauthn.authenticate,
    'webauthn.passkeyOptions': webauthn.passkeyOptions,
    'webauthn.passkeySignIn': webauthn.passkeySignIn,
    'webauthn.list': webauthn.list,
    'webauthn.rename': webauthn.rename,
    'webauthn.remove': webauthn.remove,
    'recovery.summary': recovery.summary,
    'recovery.generate': recovery.generate,
    'recovery.use': recovery.use,
    'pages.sessions': sessionList.page,
    'sessions.list': sessionList.list,
    'sessions.end': sessionList.end,
    'sessions.endOthers': sessionList.endOthers,
    notFound,
  } satisfies Record<string, RequestHandler>;
}

export type HandlerName = keyof ReturnType<typeof portalHandlers>;

/** Marks the request as a page's, so that the error handler answers a refusal with a page. */
function markPage(_req: Request, res: Response, next: NextFunction): void {
  res.locals.pageRoute = true;
  next();
}

/** Whether the request was routed to a page (see `markPage`), for the error handler. */
export function isPageRoute(res: Response): boolean {
  return res.locals.pageRoute === true;
}

/** The middleware a row's declaration stands for, in the table's order, then its handler. */
function chain(route: PortalRoute, handler: RequestHandler, clock: ElevationClock): RequestHandler[] {
  return [
    route.kind === 'page' ? markPage : undefined,
    route.origin ? originGuard : undefined,
    requireLevel(route.level),
    requireElevation(route.elevation, clock),
    handler,
  ].filter((step): step is RequestHandler => step !== undefined);
}

export interface MountedRoutes {
  /** The rows answered for any Host: mounted before the portal context. */
  anyHost: express.Router;
  /** The portal's rows: mounted after the client address, the portal context and the JSON body parser. */
  portal: express.Router;
  /** The last row: mounted after everything else (static files included). */
  fallback: RequestHandler[];
}

/** Builds the routers the table declares, skipping rows whose switch is off. */
export function mountPortalRoutes(deps: PortalRouteDependencies, notFound: RequestHandler): MountedRoutes {
  const handlers = portalHandlers(deps, notFound);
  const webauthnOn = !deps.webauthn.webauthn.disable;
  const switches = {
    always: true,
    webauthn: webauthnOn,
    passkeys: webauthnOn && deps.webauthn.webauthn.enable_passkey_login,
  };
  const clock: ElevationClock = {
    elevationLifetimeSeconds: deps.webauthn.elevationLifetime,
    now: deps.webauthn.now ?? Date.now,
  };
  const mounted: MountedRoutes = { anyHost: express.Router(), portal: express.Router(), fallback: [] };
  for (const route of PORTAL_ROUTES) {
    if (!switches[route.when]) continue;
    const steps = chain(route, handlers[route.handler], clock);
    if (route.method === 'ANY') {
      mounted.fallback = steps;
      continue;
    }
    const router = route.anyHost ? mounted.anyHost : mounted.portal;
    const method = route.method.toLowerCase() as Lowercase<Method>;
    router[method](route.path, ...steps);
  }
  return mounted;
}

/** The table as text, one row a line (for the route table's test and for reading). */
export function describeRoutes(routes: readonly PortalRoute[] = PORTAL_ROUTES): string[] {
  return routes.map((route) =>
    [
      route.method.padEnd(6),
      route.path.padEnd(38),
      route.origin ? 'origin' : '-     ',
      route.level.padEnd(9),
      route.elevation.padEnd(15),
      route.when === 'always' ? '' : `[${route.when}]`,
      route.anyHost ? '[any host]' : '',
    ]
      .join(' ')
      .trimEnd(),
  );
}
