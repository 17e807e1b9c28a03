// The client address of a portal request, found once per request by the authz endpoints' rule.
import type { NextFunction, Request, Response } from 'express';
import { clientAddress, UNKNOWN_ADDRESS } from '../authz/target.js';
import type { TrustedProxies } from '../authz/ip.js';
import { peerAddressOf } from '../authz/peer.js';

const addresses = new WeakMap<Request, string>();

/**
 * Finds each request's client address once, by the authz endpoints' rule (`server.trusted_proxies`, see
 * target.ts `clientAddress`): a garbled X-Forwarded-For makes the address unknown, never the proxy's own, so it
 * can neither satisfy a `networks` rule nor get the proxy banned in `regulation.modes: [ip]`.
 */
export function clientAddressOf(trusted: TrustedProxies) {
  return function findClientAddress(req: Request, _res: Response, next: NextFunction): void {
    addresses.set(req, clientAddress(req.headers, peerAddressOf(req), trusted) ?? UNKNOWN_ADDRESS);
    next();
  };
}

/** The visitor's address found by `clientAddressOf`; `unknown` (matching no network) when it could not be told. */
export function requestIp(req: Request): string {
  return addresses.get(req) ?? UNKNOWN_ADDRESS;
}
