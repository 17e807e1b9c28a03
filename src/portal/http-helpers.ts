// Small pieces every portal route uses: the JSON reply envelope, HTML pages and the portal's client address.
import type { NextFunction, Request, Response } from 'express';
import { clientAddress, UNKNOWN_ADDRESS } from '../authz/target.js';
import type { TrustedProxies } from '../authz/ip.js';

/** `{"status":"OK","data":...}` (SPEC §6). */
export function ok(res: Response, data?: unknown, status = 200): void {
  res.status(status).json(data === undefined ? { status: 'OK' } : { status: 'OK', data });
}

/** `{"status":"KO","message":"..."}` with a fitting 4xx/5xx code: short, never a stack trace. */
export function ko(res: Response, status: number, message: string): void {
  res.status(status).json({ status: 'KO', message });
}

export function html(res: Response, status: number, page: string): void {
  res.status(status).type('html').send(page);
}

const addresses = new WeakMap<Request, string>();

/**
 * Finds each request's client address once, by the authz endpoints' rule (`server.trusted_proxies`, see
 * target.ts `clientAddress`): a garbled X-Forwarded-For makes the address unknown, never the proxy's own, so it
 * can neither satisfy a `networks` rule nor get the proxy banned in `regulation.modes: [ip]`.
 */
export function clientAddressOf(trusted: TrustedProxies) {
  return function findClientAddress(req: Request, _res: Response, next: NextFunction): void {
    addresses.set(req, clientAddress(req.headers, req.socket.remoteAddress, trusted) ?? UNKNOWN_ADDRESS);
    next();
  };
}

/** The visitor's address found by `clientAddressOf`; `unknown` (matching no network) when it could not be told. */
export function requestIp(req: Request): string {
  return addresses.get(req) ?? UNKNOWN_ADDRESS;
}
