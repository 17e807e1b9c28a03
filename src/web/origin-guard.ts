// Cross-site request forgery guard for state-changing requests (SPEC §6): a browser's request must come from the
// portal's own origin. Bodies must be JSON, which a cross-site form cannot send without a CORS preflight.
import type { NextFunction, Request, Response } from 'express';
import { portalLocals } from './context.js';
import { PortalError } from './errors.js';

const CROSS_ORIGIN = 'Cross-origin request refused.';

/** Methods a browser may send cross-site without asking (they change nothing here). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function originGuard(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const { cookie } = portalLocals(res);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== cookie.portalUrl.origin) {
    next(new PortalError(403, CROSS_ORIGIN));
    return;
  }
  // Browsers that send Fetch Metadata but no Origin still say where the request came from.
  const site = req.headers['sec-fetch-site'];
  if (origin === undefined && site !== undefined && site !== 'same-origin' && site !== 'none') {
    next(new PortalError(403, CROSS_ORIGIN));
    return;
  }
  const length = Number(req.headers['content-length'] ?? 0);
  const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(new PortalError(415, 'Request bodies must be application/json.'));
    return;
  }
  next();
}
