// The portal's Express application: pages, JSON API, static assets (SPEC §5, §6), in the order each request meets
// them. Which routes exist and what guards them is the route table's (routes.ts). The authz endpoints do not go
// through here (see http/server.ts).
import express, { type NextFunction, type Request, type Response } from 'express';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../paths.js';
import { securityHeaders } from './security-headers.js';
import { accessLog } from './access-log.js';
import { isPageRoute, mountPortalRoutes, type PortalRouteDependencies } from './routes.js';
import { portalContext } from '../web/context.js';
import { clientAddressOf } from '../web/client-address.js';
import { PortalError } from '../web/errors.js';
import { html, ko } from '../web/replies.js';
import type { TrustedProxies } from '../authz/ip.js';
import { renderMessage } from '../../views/pages.js';
import { SessionStoreUnavailableError } from '../observability/backend-errors.js';
import { StorageUnavailableError, UserDirectoryUnavailableError } from '../observability/backend-errors.js';
import { backendOf } from '../observability/outages.js';
import type { CookieSettings } from '../config/cookies.js';
import type { SessionService } from '../session/service.js';
import type { UserProvider } from '../users/provider.js';

export interface PortalAppDependencies extends PortalRouteDependencies {
  cookies: readonly CookieSettings[];
  sessions: SessionService;
  users: UserProvider;
  /** `server.trusted_proxies`: whose X-Forwarded-For names the client (the same rule as the authz endpoints). */
  trustedProxies: TrustedProxies;
}

const STATIC_FILES = {
  index: false,
  fallthrough: false,
  setHeaders: (res: Response) => res.setHeader('Cache-Control', 'public, max-age=300'),
};

function notFound(req: Request, res: Response): void {
  if (req.path.startsWith('/api/')) {
    ko(res, 404, 'Not found.');
    return;
  }
  html(
    res,
    404,
    renderMessage({
      title: 'Page not found',
      message: 'There is nothing here.',
      status: 'error',
      actionUrl: '/',
      actionLabel: 'Go to sign in',
    }),
  );
}

export function createPortalApp(deps: PortalAppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const routes = mountPortalRoutes(deps, notFound);

  app.use(accessLog(deps.logger));
  app.use(securityHeaders(deps.cookies.some((c) => c.portalUrl.protocol === 'https:')));
  app.use(routes.anyHost);

  // The pages' WebAuthn helper, served from Gatehouse itself (no CDN); its ES modules import each other by relative
  // .js paths, so the directory works as is. Mounted before /static, whose handler answers 404 for unknown files.
  app.use(
    '/static/vendor/simplewebauthn',
    express.static(dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser'))), STATIC_FILES),
  );
  app.use('/static', express.static(join(packageRoot, 'views', 'assets'), STATIC_FILES));

  app.use(clientAddressOf(deps.trustedProxies));
  app.use(portalContext(deps.cookies, deps.sessions, deps.users));
  app.use(express.json({ limit: '16kb', strict: true }));
  app.use(routes.portal);
  app.use(...routes.fallback);

  // The one place a portal request's failure becomes an answer. A PortalError is an expected refusal: its status
  // and public message, as JSON or, on a page, as the message page. Anything else is logged with the request ID
  // (an outage of Redis or storage once, by `outages`) and answered without details.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof PortalError) return refuse(error, req, res);
    const status = errorStatus(error);
    const backend = status === 503 && deps.outages ? backendOf(error) : undefined;
    if (backend !== undefined) deps.outages!.answered503(backend, error);
    else if (status >= 500)
      deps.logger.error(
        { err: error, requestId: res.getHeader('X-Request-Id'), path: req.path },
        'portal request failed',
      );
    if (res.headersSent) return res.end();
    // A browser opening a portal page gets a page, not the API's JSON; /api/* always answers JSON.
    if (
      status >= 500 &&
      !req.path.startsWith('/api/') &&
      req.accepts(['application/json', 'text/html']) === 'text/html'
    ) {
      return html(
        res,
        status,
        renderMessage(
          status === 503
            ? {
                title: 'Temporarily unavailable',
                message:
                  error instanceof UserDirectoryUnavailableError
                    ? DIRECTORY_DOWN
                    : 'Gatehouse cannot reach its session store or storage. Try again in a moment.',
                status: 'error',
                actionUrl: req.originalUrl.startsWith('/') ? req.originalUrl : '/',
                actionLabel: 'Try again',
              }
            : {
                title: 'Something went wrong',
                message: 'Gatehouse could not answer this request. Try again in a moment.',
                status: 'error',
                actionUrl: '/',
                actionLabel: 'Go to sign in',
              },
        ),
      );
    }
    // Express's own refusals (the body parser's): a fixed word per status, never the parser's message.
    const message =
      error instanceof UserDirectoryUnavailableError
        ? DIRECTORY_DOWN
        : status === 503
          ? 'Gatehouse cannot reach its session store or storage. Try again shortly.'
          : status === 413
            ? 'Request body too large.'
            : status === 400
              ? 'Malformed request.'
              : status === 415
                ? 'Unsupported content type.'
                : status < 500
                  ? 'Request refused.'
                  : 'Internal error.';
    ko(res, status, message);
  });

  /** A PortalError's answer; its log detail (never sent) goes to the debug log with the request ID. */
  function refuse(error: PortalError, req: Request, res: Response): void {
    if (error.logDetail !== undefined)
      deps.logger.debug(
        { requestId: res.getHeader('X-Request-Id'), path: req.path, status: error.status, detail: error.logDetail },
        'portal request refused',
      );
    if (res.headersSent) {
      res.end();
      return;
    }
    if (isPageRoute(res) && req.accepts(['application/json', 'text/html']) === 'text/html') {
      html(
        res,
        error.status,
        renderMessage({
          title: 'This request was refused',
          message: error.publicMessage,
          status: 'error',
          actionUrl: '/',
          actionLabel: 'Go to sign in',
        }),
      );
      return;
    }
    ko(res, error.status, error.publicMessage);
  }
  return app;
}

/** A sign-in (or a session check) needed the LDAP directory and it did not answer: never "wrong password". */
const DIRECTORY_DOWN =
  'Gatehouse cannot reach the user directory, so it cannot check sign-ins now. Try again in a moment.';

function errorStatus(error: unknown): number {
  if (
    error instanceof SessionStoreUnavailableError ||
    error instanceof StorageUnavailableError ||
    error instanceof UserDirectoryUnavailableError
  )
    return 503;
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}
