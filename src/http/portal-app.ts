// The portal's Express application: pages, JSON API, static assets (SPEC §5, §6). The authz endpoints do not go
// through here (see http/server.ts).
import express, { type NextFunction, type Request, type Response } from 'express';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { packageRoot } from '../paths.js';
import { securityHeaders } from './security-headers.js';
import { accessLog } from './access-log.js';
import { portalContext } from '../portal/context.js';
import { originGuard } from '../portal/origin-guard.js';
import { apiRoutes, type ApiDependencies } from '../portal/routes-api.js';
import { pageRoutes, type PageDependencies } from '../portal/routes-pages.js';
import { securityPageRoutes } from '../portal/routes-security-pages.js';
import { identityRoutes, type IdentityRouteDependencies } from '../identity/routes.js';
import { webauthnRoutes, type WebAuthnRouteDependencies } from '../webauthn/routes.js';
import { clientAddressOf, html, ko, ok } from '../portal/http-helpers.js';
import type { TrustedProxies } from '../authz/ip.js';
import { renderMessage } from '../../views/pages.js';
import { SessionStoreUnavailableError } from '../session/model.js';
import { StorageUnavailableError } from '../storage/storage.js';
import { backendOf, reasonOf, type Outages } from '../observability/outages.js';
import type { CookieSettings } from '../session/model.js';
import type { SessionService } from '../session/service.js';
import type { UserProvider } from '../users/provider.js';

export interface PortalAppDependencies extends ApiDependencies, PageDependencies {
  cookies: readonly CookieSettings[];
  sessions: SessionService;
  users: UserProvider;
  logger: Logger;
  /** Resolves when Redis and storage both answer; rejects otherwise (with the failing backend's error). */
  healthCheck: () => Promise<void>;
  /** Told of each 503 owed to Redis or storage: it logs the outage once and counts (absent: logged per request). */
  outages?: Pick<Outages, 'answered503'>;
  /** `/api/identity/*` (SPEC §6). */
  identity: IdentityRouteDependencies;
  /** `/api/webauthn/*` (SPEC §6). */
  webauthn: WebAuthnRouteDependencies;
  /** `server.trusted_proxies`: whose X-Forwarded-For names the client (the same rule as the authz endpoints). */
  trustedProxies: TrustedProxies;
}

const STATIC_FILES = {
  index: false,
  fallthrough: false,
  setHeaders: (res: Response) => res.setHeader('Cache-Control', 'public, max-age=300'),
};

export function createPortalApp(deps: PortalAppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(accessLog(deps.logger));
  app.use(securityHeaders(deps.cookies.some((c) => c.portalUrl.protocol === 'https:')));

  app.get('/api/health', async (_req, res) => {
    try {
      await deps.healthCheck();
      ok(res);
    } catch (error) {
      // Monitors call this every few seconds: an outage is told once by `outages`, not once per call.
      const backend = deps.outages ? backendOf(error) : undefined;
      if (backend !== undefined) deps.outages!.answered503(backend, error);
      else deps.logger.warn({ reason: reasonOf(error) }, 'health check failed');
      ko(res, 503, 'Redis or storage cannot be reached.');
    }
  });

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
  app.use(originGuard);
  app.use(apiRoutes(deps));
  app.use(identityRoutes(deps.identity));
  app.use(webauthnRoutes(deps.webauthn));
  app.use(securityPageRoutes(deps.securityPages));
  app.use(pageRoutes(deps));

  app.use((req: Request, res: Response) => {
    if (req.path.startsWith('/api/')) return ko(res, 404, 'Not found.');
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
  });

  // Expected failures become short 4xx/5xx answers here; anything else is logged with the request ID and is a
  // plain 500 without details.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
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
                message: 'Gatehouse cannot reach its session store or storage. Try again in a moment.',
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
    const message =
      status === 503
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
  return app;
}

function errorStatus(error: unknown): number {
  if (error instanceof SessionStoreUnavailableError || error instanceof StorageUnavailableError) return 503;
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}
