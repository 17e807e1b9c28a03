// Per-request portal context: which cookie domain's portal was asked for (by Host), its session, and the signed-in
// user.
import type { NextFunction, Request, Response } from 'express';
import type { Session } from '../session/model.js';
import type { CookieSettings } from '../config/cookies.js';
import type { SessionService } from '../session/service.js';
import { currentUser, type UserDetails, type UserProvider } from '../users/provider.js';
import { readCookieValues, sessionCookie, clearSessionCookie } from '../session/cookie.js';
import { PortalError } from './errors.js';

export interface PortalLocals {
  cookie: CookieSettings;
  /** Level 0 included: an anonymous session carries ceremony state (a passkey challenge). */
  session: Session | undefined;
  /** The session's user while it is signed in (level 1 or 2); undefined otherwise. */
  user: UserDetails | undefined;
}

/** Finds the portal by host name only: the scheme and port come from configuration, never from headers. */
function portalForHost(cookies: readonly CookieSettings[], hostHeader: string | undefined): CookieSettings | undefined {
  if (hostHeader === undefined) return undefined;
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  return cookies.find((cookie) => cookie.portalUrl.hostname === host);
}

export function portalContext(cookies: readonly CookieSettings[], sessions: SessionService, users: UserProvider) {
  return async function loadPortalContext(req: Request, res: Response, next: NextFunction): Promise<void> {
    const cookie = portalForHost(cookies, req.headers.host);
    if (cookie === undefined) {
      next(new PortalError(400, 'This host is not a Gatehouse portal.'));
      return;
    }
    let session = await sessions.load(readCookieValues(req.headers.cookie, cookie.name), cookie);
    let user: UserDetails | undefined;
    if (session && session.data.level > 0) {
      user = await currentUser(users, session.data.username);
      // A user removed from (or disabled in) the users file is signed out at their next request (SPEC §8).
      if (user === undefined || user.disabled) {
        await endSession(res, sessions, session, cookie);
        session = undefined;
        user = undefined;
      }
    }
    res.locals.portal = { cookie, session, user } satisfies PortalLocals;
    next();
  };
}

export function portalLocals(res: Response): PortalLocals {
  return res.locals.portal as PortalLocals;
}

export function setSessionCookie(res: Response, session: Session, cookie: CookieSettings): void {
  res.append('Set-Cookie', sessionCookie(session, cookie));
}

/** Signs out: the session (if any) is destroyed in the store and the browser told to drop its cookie. */
export async function endSession(
  res: Response,
  sessions: SessionService,
  session: Session | undefined,
  cookie: CookieSettings,
): Promise<void> {
  if (session) await sessions.destroy(session);
  res.append('Set-Cookie', clearSessionCookie(cookie));
}
