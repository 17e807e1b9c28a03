// Headers on every portal answer: a strict CSP (no inline script or style), no framing, no referrer leaks
// (redirect targets and one-time tokens travel in URLs), no caching of personal pages.
import type { NextFunction, Request, Response } from 'express';

/** Exported for the browser page tests, which serve rendered views under the same policy. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(httpsPortal: boolean) {
  return function setSecurityHeaders(_req: Request, res: Response, next: NextFunction): void {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
    res.setHeader('Cache-Control', 'no-store');
    if (httpsPortal) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}
