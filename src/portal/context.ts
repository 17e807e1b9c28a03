// Per-request portal context: which cookie domain's portal was asked for (by Host), and its session.
import type { NextFunction, Request, Response } from 'express';
import type { CookieSettings, Session } from '../session/model.js';
import type { SessionService } from '../session/service.js';
import type { UserProvider } from '../users/provider.js';
import { readCookieValues, sessionCookie, clearSessionCookie } from '../session/cookie.js';
import { ko } from './http-helpers.js';

export interface PortalLocals {
  cookie: CookieSettings;
  session: Session | undefined;
}

/** Finds the portal by host name only: the scheme and port come from configuration, never from headers. */
export function portalForHost(cookies: readonly CookieSettings[], hostHeader: string | undefined): CookieSettings | undefined {
  if (hostHeader === undefined) return undefined;
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  return cookies.find((cookie) => cookie.portalUrl.hostname === host);
}

export function portalContext(cookies: readonly CookieSettings[], sessions: SessionService, users: UserProvider) {
  return async function loadPortalContext(req: Request, res: Response, next: NextFunction): Promise<void> {
    const cookie = portalForHost(cookies, req.headers.host);
    if (cookie === undefined) {
      ko(res, 400, 'This host is not a Gatehouse portal.');
      return;
    }
    let session = await sessions.load(readCookieValues(req.headers.cookie, cookie.name), cookie);
    if (session && session.data.level > 0) {
      // A user removed from (or disabled in) the users file is signed out at their next request (SPEC §8).
      const user = users.get(session.data.username);
      if (user === undefined || user.disabled) {
        await sessions.destroy(session);
        res.append('Set-Cookie', clearSessionCookie(cookie));
        session = undefined;
      }
    }
    res.locals.portal = { cookie, session } satisfies PortalLocals;
    next();
  };
}

export function portalLocals(res: Response): PortalLocals {
  return res.locals.portal as PortalLocals;
}

export function setSessionCookie(res: Response, session: Session, cookie: CookieSettings): void {
  res.append('Set-Cookie', sessionCookie(session, cookie));
}

export function clearCookie(res: Response, cookie: CookieSettings): void {
  res.append('Set-Cookie', clearSessionCookie(cookie));
}
