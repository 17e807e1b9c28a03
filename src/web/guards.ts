// The guards a route declares in the route table (http/routes.ts), as middleware: who may call it (signed-in
// level) and whether a fresh proof of identity is needed (elevation). A refusal is a PortalError, rendered by the
// portal app's error handler like any other.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { portalLocals } from './context.js';
import { PortalError } from './errors.js';
import type { Session } from '../session/model.js';

/** The signed-in level a route needs: none, the first factor (password or passkey), or two factors. */
export type RequiredLevel = 'anonymous' | '1FA' | '2FA';

/**
 * A fresh proof of identity on top of the level (SPEC §5, §6): `identity` is the emailed link, still running
 * (registering a key); `identity-or-2fa` also takes a second factor passed within `elevation_lifetime` (renaming
 * and deleting keys).
 */
export type RequiredElevation = 'none' | 'identity' | 'identity-or-2fa';

export const GUARD_MESSAGES = {
  signInFirst: 'Sign in first.',
  secondFactorFirst: 'Use your security key first.',
  notElevated: 'Confirm your identity first: registering a security key needs the link we email you.',
  noRecentProof: 'Confirm your identity or use your security key again first.',
} as const;

/** The level guard; undefined for `anonymous` (nothing to check). */
export function requireLevel(level: RequiredLevel): RequestHandler | undefined {
  if (level === 'anonymous') return undefined;
  const needed = level === '2FA' ? 2 : 1;
  return function checkLevel(_req: Request, res: Response, next: NextFunction): void {
    const { session } = portalLocals(res);
    const reached = session?.data.level ?? 0;
    if (reached >= needed) next();
    // A session below level 1 is not signed in at all: say that first.
    else next(new PortalError(401, reached < 1 ? GUARD_MESSAGES.signInFirst : GUARD_MESSAGES.secondFactorFirst));
  };
}

export interface ElevationClock {
  /** `identity_validation.elevation_lifetime`, seconds. */
  elevationLifetimeSeconds: number;
  now: () => number;
}

/** The elevation guard; undefined for `none`. Runs after the level guard, so the session is signed in. */
export function requireElevation(elevation: RequiredElevation, clock: ElevationClock): RequestHandler | undefined {
  if (elevation === 'none') return undefined;
  return function checkElevation(_req: Request, res: Response, next: NextFunction): void {
    const data = portalLocals(res).session?.data;
    const now = clock.now();
    const elevated = (data?.elevatedUntil ?? 0) > now;
    if (elevation === 'identity') {
      next(elevated ? undefined : new PortalError(403, GUARD_MESSAGES.notElevated));
      return;
    }
    const secondFactorAt = data?.secondFactorAt;
    const recentSecondFactor =
      data?.level === 2 &&
      secondFactorAt !== undefined &&
      now - secondFactorAt <= clock.elevationLifetimeSeconds * 1000;
    next(elevated || recentSecondFactor ? undefined : new PortalError(403, GUARD_MESSAGES.noRecentProof));
  };
}

/**
 * The session of a route whose table entry requires a signed-in level: the level guard has already let it through,
 * so this only tells the type checker (and still fails closed should a route lose its guard).
 */
export function signedInSession(res: Response): Session {
  const { session } = portalLocals(res);
  if (session === undefined || session.data.level < 1) throw new PortalError(401, GUARD_MESSAGES.signInFirst);
  return session;
}
