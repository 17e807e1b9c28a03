// `GET /.well-known/jwks.json`: the public keys that verify the identity tokens of authz passes (identity_token),
// for upstream apps (jose's createRemoteJWKSet and the like). Answered for any Host, like the health check: an app
// may fetch it straight from Gatehouse on the internal network rather than through the portal's public name.
import type { Request, Response } from 'express';
import type { Jwks } from '../authz/identity-token-keys.js';
import { PortalError } from '../web/errors.js';

export interface JwksDependencies {
  /** The key set to publish; absent when no cookie domain or rule asks for identity tokens. */
  jwks?: { jwks(): Jwks };
}

/**
 * Cached briefly: a successor key is published well ahead of its first token (a quarter of a rotation period, at
 * least 15 minutes), so a verifier's copy at most five minutes old never misses a key in use; one that meets an
 * unknown `kid` anyway refetches.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

export function jwksHandler(deps: JwksDependencies) {
  return function jwks(_req: Request, res: Response): void {
    if (deps.jwks === undefined) throw new PortalError(404, 'Not found.');
    res.setHeader('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    res.status(200).type('application/jwk-set+json').send(JSON.stringify(deps.jwks.jwks()));
  };
}
