// The portal's own JSON API (SPEC §6): state, firstfactor, logout. Identity and WebAuthn routes live beside their
// services.
import { Router, type Request, type Response } from 'express';
import type { PasswordChecker } from '../users/password-check.js';
import type { SessionService } from '../session/service.js';
import { ko, ok, requestIp } from './http-helpers.js';
import { endSession, portalLocals, setSessionCookie } from './context.js';
import type { SignIn } from './sign-in.js';

export interface ApiDependencies {
  sessions: SessionService;
  passwords: PasswordChecker;
  signIn: SignIn;
  /** Failed sign-ins are answered no sooner than this, whatever the reason (SPEC §6, §8). */
  failureFloorMs: number;
}

const AUTH_FAILED = 'Authentication failed. Check your credentials.';

interface FirstFactorBody {
  username: string;
  password: string;
  keepMeLoggedIn: boolean;
  targetURL: string | undefined;
  requestMethod: string | undefined;
}

/** The body's fields with their types checked; a string describing the problem otherwise. */
function readFirstFactorBody(body: unknown): FirstFactorBody | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Expected a JSON object.';
  const b = body as Record<string, unknown>;
  const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  if (typeof b.username !== 'string' || b.username.length === 0 || b.username.length > 256) return 'A username is required.';
  if (typeof b.password !== 'string' || b.password.length === 0 || b.password.length > 1024) return 'A password is required.';
  if (!(b.keepMeLoggedIn === undefined || b.keepMeLoggedIn === null || typeof b.keepMeLoggedIn === 'boolean')) return 'keepMeLoggedIn must be a boolean.';
  if (!optionalString(b.targetURL) || !optionalString(b.requestMethod)) return 'targetURL and requestMethod must be strings.';
  return {
    username: b.username,
    password: b.password,
    keepMeLoggedIn: b.keepMeLoggedIn === true,
    targetURL: (b.targetURL as string | null | undefined) || undefined,
    requestMethod: (b.requestMethod as string | null | undefined) || undefined,
  };
}

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

export function apiRoutes(deps: ApiDependencies): Router {
  const router = Router();

  router.get('/api/state', (_req: Request, res: Response) => {
    const { session } = portalLocals(res);
    const data = session?.data;
    ok(res, {
      username: data && data.level > 0 ? data.username : '',
      authentication_level: data?.level ?? 0,
      elevated: data !== undefined && data.level > 0 && (data.elevatedUntil ?? 0) > Date.now(),
    });
  });

  router.post('/api/firstfactor', async (req: Request, res: Response) => {
    const body = readFirstFactorBody(req.body);
    if (typeof body === 'string') return ko(res, 400, body);
    const { cookie, session } = portalLocals(res);
    const ip = requestIp(req);
    const user = await deps.passwords.check(
      { username: body.username, password: body.password, ip, authType: '1FA', requestUri: loggableTarget(body.targetURL, cookie.portalUrl), requestMethod: body.requestMethod ?? '' },
      { failureFloorMs: deps.failureFloorMs },
    );
    if (user === undefined) return ko(res, 401, AUTH_FAILED);
    // A password sign-in starts again at level 1 with a new session ID, except as the second step after a
    // passkey of the same user, which makes two factors.
    const level = deps.signIn.passwordLevel(session, user);
    const next = await deps.signIn.establish(session, user, level, body.keepMeLoggedIn || (session?.data.rememberMe ?? false), cookie);
    setSessionCookie(res, next, cookie);
    const redirect = deps.signIn.nextLocation(body.targetURL, body.requestMethod, user, level, cookie, ip);
    ok(res, redirect === undefined ? {} : { redirect });
  });

  router.post('/api/logout', async (_req: Request, res: Response) => {
    const { cookie, session } = portalLocals(res);
    await endSession(res, deps.sessions, session, cookie);
    ok(res);
  });

  return router;
}
