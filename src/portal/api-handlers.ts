// The portal's own JSON API (SPEC §6): state, firstfactor, logout. The route table (http/routes.ts) mounts these
// handlers with their guards; identity and WebAuthn handlers live beside their services.
import type { Request, Response } from 'express';
import type { PasswordChecker } from '../users/password-check.js';
import type { SessionService } from '../session/service.js';
import { z } from 'zod';
import { ok } from '../web/replies.js';
import { requestIp } from '../web/client-address.js';
import { PortalError } from '../web/errors.js';
import { bodyObject, ignoredBody, optionalFlag, optionalText, parseBody } from '../web/body.js';
import { MAX_USERNAME_LENGTH, hasUnsafeCharacters } from '../text/safe-text.js';
import { MAX_PASSWORD_BYTES } from '../users/hashing.js';
import { PasswordCheckBusyError } from '../users/password-check.js';
import { HashSlotsFullError } from '../users/hash-slots.js';
import { endSession, portalLocals, setSessionCookie } from '../web/context.js';
import type { SignIn } from '../web/sign-in.js';
import type { UserDetails } from '../users/provider.js';
import type { AuthLevel } from '../session/model.js';
import type { CookieSettings } from '../config/cookies.js';
import type { Logger } from 'pino';
import { NO_EVENTS, SecurityEvents } from '../observability/events.js';

export interface ApiDependencies {
  sessions: SessionService;
  passwords: PasswordChecker;
  signIn: SignIn;
  /** Failed sign-ins are answered no sooner than this, whatever the reason (SPEC §6, §8). */
  failureFloorMs: number;
  /** Where sign-outs are logged (sign-ins are logged by the password check). */
  logger?: Pick<Logger, 'info'>;
}

const AUTH_FAILED = 'Authentication failed. Check your credentials.';
const BUSY = 'Another sign-in for this account is still being checked. Try again in a moment.';
const CROWDED = 'Too many sign-ins are being checked right now. Try again in a moment.';

/** The longest redirect target taken from a body (the second factor's limit too). */
export const MAX_TARGET_URL_LENGTH = 4096;
const MAX_REQUEST_METHOD_LENGTH = 32;

/**
 * `POST /api/firstfactor` (SPEC §6). Types and sizes are checked here (a 400 that checks no password, so it tells
 * nothing and counts nothing). Bad bytes inside well-typed strings are not refused here: the attempt goes through
 * the regulated check like any other (failure floor, logged with the bytes escaped, counted), see docs/decisions.md.
 */
const firstFactorBody = bodyObject({
  username: z
    .string({ error: 'A username is required.' })
    .min(1, { error: 'A username is required.' })
    .max(MAX_USERNAME_LENGTH, { error: `The username must be at most ${MAX_USERNAME_LENGTH} characters long.` }),
  password: z
    .string({ error: 'A password is required.' })
    .min(1, { error: 'A password is required.' })
    .max(MAX_PASSWORD_BYTES, { error: `The password must be at most ${MAX_PASSWORD_BYTES} characters long.` }),
  keepMeLoggedIn: optionalFlag('keepMeLoggedIn'),
  targetURL: optionalText('targetURL', MAX_TARGET_URL_LENGTH),
  requestMethod: optionalText('requestMethod', MAX_REQUEST_METHOD_LENGTH),
});

/** `POST /api/logout`: Authelia's page may send `{targetURL}`; nothing in it is used. */
const logoutBody = ignoredBody;

/**
 * The target as recorded in the authentication log: a link to the portal itself loses its query, which can hold a
 * one-time token (the emailed registration link); other targets are kept as given, bounded.
 */
function loggableTarget(target: string | undefined, portal: URL): string {
  if (target === undefined) return '';
  try {
    const url = new URL(target);
    if (url.origin === portal.origin) return `${url.origin}${url.pathname}`;
  } catch {
    // not a URL: kept as text below
  }
  return target.slice(0, 2048);
}

/**
 * Where the browser goes after signing in. A target or method holding control bytes is never followed (URL parsers
 * silently drop or encode some of them, so what would be checked is not what was sent): no redirect at all then,
 * not even the default one, and the portal shows its "signed in" page.
 */
function redirectAfterSignIn(
  signIn: SignIn,
  body: { targetURL: string | undefined; requestMethod: string | undefined },
  ...rest: [user: UserDetails, level: AuthLevel, cookie: CookieSettings, ip: string]
): string | undefined {
  if (hasUnsafeCharacters(body.targetURL ?? '') || hasUnsafeCharacters(body.requestMethod ?? '')) return undefined;
  return signIn.nextLocation(body.targetURL, body.requestMethod, ...rest);
}

/** The handlers of `/api/state`, `/api/firstfactor` and `/api/logout`. */
export function apiHandlers(deps: ApiDependencies) {
  const events = deps.logger === undefined ? NO_EVENTS : new SecurityEvents(deps.logger);

  function state(_req: Request, res: Response): void {
    const { session } = portalLocals(res);
    const data = session?.data;
    ok(res, {
      username: data && data.level > 0 ? data.username : '',
      authentication_level: data?.level ?? 0,
      elevated: data !== undefined && data.level > 0 && (data.elevatedUntil ?? 0) > Date.now(),
    });
  }

  async function firstFactor(req: Request, res: Response): Promise<void> {
    const body = parseBody(firstFactorBody, req.body);
    const { cookie, session } = portalLocals(res);
    const ip = requestIp(req);
    let user: Awaited<ReturnType<typeof deps.passwords.check>>;
    try {
      user = await deps.passwords.check(
        {
          username: body.username,
          password: body.password,
          ip,
          authType: '1FA',
          requestUri: loggableTarget(body.targetURL, cookie.portalUrl),
          requestMethod: body.requestMethod ?? '',
        },
        { failureFloorMs: deps.failureFloorMs },
      );
    } catch (error) {
      // Waiting for other checks of this account took too long: not a wrong password, so not "check your credentials".
      if (!(error instanceof PasswordCheckBusyError)) throw error;
      res.setHeader('Retry-After', '1');
      throw new PortalError(503, error instanceof HashSlotsFullError ? CROWDED : BUSY);
    }
    if (user === undefined) throw new PortalError(401, AUTH_FAILED);
    // A password sign-in starts again at level 1 with a new session ID, except as the second step after a
    // passkey of the same user, which makes two factors.
    const level = deps.signIn.passwordLevel(session, user);
    const next = await deps.signIn.establish(
      session,
      user,
      level,
      body.keepMeLoggedIn || (session?.data.rememberMe ?? false),
      cookie,
      'password',
      true,
      { userAgent: req.headers['user-agent'], address: ip },
    );
    setSessionCookie(res, next, cookie);
    const redirect = redirectAfterSignIn(deps.signIn, body, user, level, cookie, ip);
    ok(res, redirect === undefined ? {} : { redirect });
  }

  async function logout(req: Request, res: Response): Promise<void> {
    parseBody(logoutBody, req.body);
    const { cookie, session } = portalLocals(res);
    await endSession(res, deps.sessions, session, cookie);
    if (session !== undefined && session.data.level > 0)
      events.signOut({ remoteIp: requestIp(req), user: session.data.username });
    ok(res);
  }

  return { state, firstFactor, logout };
}
