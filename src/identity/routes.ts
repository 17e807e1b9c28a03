// The emailed identity check (SPEC §5 "Registering a key", §6 `/api/identity/*`): a signed-in user asks for a link,
// Gatehouse mails it, and redeeming it (once, as the same user) elevates the session for `elevation_lifetime`,
// which registering a security key requires.
import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Notifier } from '../notify/notifier.js';
import { identityCheckMessage } from '../notify/templates.js';
import { portalLocals, setSessionCookie } from '../portal/context.js';
import { ko, ok, requestIp } from '../portal/http-helpers.js';
import type { SessionService } from '../session/service.js';
import type { Storage } from '../storage/storage.js';
import type { UserProvider } from '../users/provider.js';
import type { AttemptLocks } from '../users/password-check.js';
import { MailThrottle } from './mail-throttle.js';
import { z } from 'zod';
import { bodyObject, firstMessage } from '../portal/body.js';
import { portalPath } from '../portal/portal-path.js';
import { isIdentityAction, type IdentityAction, type IdentityVerifier, type RedeemResult } from './tokens.js';

export interface IdentityRouteDependencies {
  sessions: SessionService;
  storage: Storage;
  verifier: IdentityVerifier;
  notifier: Notifier;
  users: UserProvider;
  /** The shared lock (session store) that holds each user's email interval across replicas. */
  locks: AttemptLocks;
  /** `identity_validation.elevation_lifetime`, seconds. */
  elevationLifetimeSeconds: number;
  logger: Logger;
  now?: () => number;
}

/** Where each action's link leads, below the portal URL. */
const ACTION_PAGES = { register_webauthn: 'webauthn/register' } as const;
/**
 * Where a link that only confirms the user leads (a rename or delete from a password-only session): it elevates
 * the session like the registration link, then returns to `then`, a portal path.
 */
const CONFIRM_PAGE = 'identity/confirm';

/** One email per user per this many seconds, on all replicas together (mail-throttle.ts). */
const EMAIL_INTERVAL_SECONDS = 10;

const REDEEM_FAILURES: Record<Exclude<RedeemResult, 'ok'>, [status: number, message: string]> = {
  invalid: [400, 'This link is not valid.'],
  expired: [400, 'This link has expired.'],
  used: [400, 'This link was already used.'],
  wrong_user: [403, 'This link belongs to another user.'],
};

const SIGN_IN_FIRST = 'Sign in first.';

/**
 * `<portal URL>/<path>?<query>`, keeping a path the portal URL may have (`https://example.org/auth` →
 * `https://example.org/auth/webauthn/register`).
 */
export function portalLink(portalUrl: URL, path: string, query: Record<string, string> = {}): string {
  const url = new URL(portalUrl.href);
  url.search = '';
  url.hash = '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.href;
}

const startBody = bodyObject({
  action: z
    .string({ error: 'Unknown action.' })
    .max(64, { error: 'Unknown action.' })
    .refine(isIdentityAction, { error: 'Unknown action.' }),
  returnTo: z
    .string({ error: 'Unknown return page.' })
    .refine((value) => portalPath(value) !== undefined, { error: 'Unknown return page.' })
    .optional(),
});

/** Tokens are compact JWTs of a few hundred characters; anything far longer is not one. */
const finishBody = bodyObject({
  token: z
    .string({ error: 'A token is required.' })
    .min(1, { error: 'A token is required.' })
    .max(4096, { error: 'This link is not valid.' }),
});

export function identityRoutes(deps: IdentityRouteDependencies): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const throttle = new MailThrottle(deps.locks, EMAIL_INTERVAL_SECONDS);

  router.post('/api/identity/start', async (req: Request, res: Response) => {
    const { cookie, session } = portalLocals(res);
    if (!session || session.data.level < 1) return ko(res, 401, SIGN_IN_FIRST);
    const body = startBody.safeParse(req.body);
    if (!body.success) return ko(res, 400, firstMessage(body.error));
    const action = body.data.action as IdentityAction;
    const returnTo = portalPath(body.data.returnTo);
    const username = session.data.username;
    const user = deps.users.get(username);
    if (!user) return ko(res, 401, SIGN_IN_FIRST);
    const to = user.emails[0];
    if (to === undefined) return ko(res, 400, 'Your account has no email address. Ask your administrator to add one.');
    // 429, not a silent OK: the caller is the account's own signed-in user, so this tells nobody anything new.
    const slot = await throttle.claim(username);
    if (slot === undefined) {
      res.setHeader('Retry-After', String(EMAIL_INTERVAL_SECONDS));
      return ko(res, 429, 'An email was sent a moment ago. Check your inbox, or try again in a few seconds.');
    }
    const ip = requestIp(req);
    try {
      const { token, jti } = await deps.verifier.issue({ username, action, ip });
      const link =
        returnTo === undefined
          ? portalLink(cookie.portalUrl, ACTION_PAGES[action], { token })
          : portalLink(cookie.portalUrl, CONFIRM_PAGE, { token, then: returnTo });
      const message = identityCheckMessage({
        username,
        displayName: user.displayName,
        link,
        ip,
        at: new Date(now()),
        validForSeconds: deps.verifier.lifetimeSeconds,
        purpose: returnTo === undefined ? 'register' : 'manage',
      });
      try {
        await deps.notifier.send({ to, toName: user.displayName, ...message });
      } catch (error) {
        deps.logger.error({ err: error, username, action }, 'identity verification email could not be sent');
        await slot.release();
        return ko(res, 503, 'The email could not be sent. Try again later.');
      }
      // The jti names the token without being usable: the signature is needed to redeem it.
      deps.logger.info({ username, action, jti, ip }, 'identity verification emailed');
      ok(res);
    } catch (error) {
      await slot.release();
      throw error;
    }
  });

  router.post('/api/identity/finish', async (req: Request, res: Response) => {
    const { cookie, session } = portalLocals(res);
    if (!session || session.data.level < 1) return ko(res, 401, SIGN_IN_FIRST);
    const body = finishBody.safeParse(req.body);
    if (!body.success) return ko(res, 400, firstMessage(body.error));
    const { token } = body.data;
    const username = session.data.username;
    const ip = requestIp(req);
    const result = await deps.verifier.redeem({ token, username, action: 'register_webauthn', ip });
    if (result !== 'ok') {
      deps.logger.info({ username, result, ip }, 'identity verification refused');
      const [status, message] = REDEEM_FAILURES[result];
      return ko(res, status, message);
    }
    // A privilege change: the elevated session gets a new ID, like a change of level does.
    session.data.elevatedUntil = now() + deps.elevationLifetimeSeconds * 1000;
    const elevated = await deps.sessions.regenerate(session, cookie);
    // Ended meanwhile (signed out elsewhere, `gatehouse sessions revoke`): nothing to elevate.
    if (elevated === undefined) return ko(res, 401, SIGN_IN_FIRST);
    setSessionCookie(res, elevated, cookie);
    deps.logger.info({ username, ip }, 'identity verified: session elevated');
    ok(res, { elevated: true });
  });

  return router;
}
