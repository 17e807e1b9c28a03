// The emailed identity check (SPEC §5 "Registering a key", §6 `/api/identity/*`): a signed-in user asks for a link,
// Gatehouse mails it, and redeeming it (once, as the same user) elevates the session for `elevation_lifetime`,
// which registering a security key requires. The route table (http/routes.ts) mounts these handlers behind the
// signed-in guard.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Notifier } from '../notify/notifier.js';
import { identityCheckMessage } from '../notify/templates.js';
import { portalLocals, setSessionCookie } from '../web/context.js';
import { ok } from '../web/replies.js';
import { requestIp } from '../web/client-address.js';
import { PortalError } from '../web/errors.js';
import { GUARD_MESSAGES, signedInSession } from '../web/guards.js';
import type { SessionService } from '../session/service.js';
import type { Storage } from '../storage/storage.js';
import type { UserProvider } from '../users/provider.js';
import type { AttemptLocks } from '../users/password-check.js';
import { MailThrottle } from './mail-throttle.js';
import { z } from 'zod';
import { bodyObject, parseBody } from '../web/body.js';
import { portalLink, portalPath } from '../web/portal-paths.js';
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

/** The refusal for each way a link can fail to redeem (the result itself goes to the log). */
const REDEEM_REFUSALS: Record<Exclude<RedeemResult, 'ok'>, { status: number; message: string }> = {
  invalid: { status: 400, message: 'This link is not valid.' },
  expired: { status: 400, message: 'This link has expired.' },
  used: { status: 400, message: 'This link was already used.' },
  wrong_user: { status: 403, message: 'This link belongs to another user.' },
};

const SIGN_IN_FIRST = GUARD_MESSAGES.signInFirst;

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

/** The handlers of `POST /api/identity/start` and `POST /api/identity/finish`; both need a signed-in session. */
export function identityHandlers(deps: IdentityRouteDependencies) {
  const now = deps.now ?? Date.now;
  const throttle = new MailThrottle(deps.locks, EMAIL_INTERVAL_SECONDS);

  async function start(req: Request, res: Response): Promise<void> {
    const { cookie } = portalLocals(res);
    const session = signedInSession(res);
    const body = parseBody(startBody, req.body);
    const action = body.action as IdentityAction;
    const returnTo = portalPath(body.returnTo);
    const username = session.data.username;
    const user = deps.users.get(username);
    if (!user) throw new PortalError(401, SIGN_IN_FIRST);
    const to = user.emails[0];
    if (to === undefined)
      throw new PortalError(400, 'Your account has no email address. Ask your administrator to add one.');
    // 429, not a silent OK: the caller is the account's own signed-in user, so this tells nobody anything new.
    const slot = await throttle.claim(username);
    if (slot === undefined) {
      res.setHeader('Retry-After', String(EMAIL_INTERVAL_SECONDS));
      throw new PortalError(429, 'An email was sent a moment ago. Check your inbox, or try again in a few seconds.');
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
        throw new PortalError(503, 'The email could not be sent. Try again later.');
      }
      // The jti names the token without being usable: the signature is needed to redeem it.
      deps.logger.info({ username, action, jti, ip }, 'identity verification emailed');
      ok(res);
    } catch (error) {
      // Nothing was mailed (the token could not be issued or the email not sent): the user may try again at once.
      await slot.release();
      throw error;
    }
  }

  async function finish(req: Request, res: Response): Promise<void> {
    const { cookie } = portalLocals(res);
    const session = signedInSession(res);
    const { token } = parseBody(finishBody, req.body);
    const username = session.data.username;
    const ip = requestIp(req);
    const result = await deps.verifier.redeem({ token, username, action: 'register_webauthn', ip });
    if (result !== 'ok') {
      deps.logger.info({ username, result, ip }, 'identity verification refused');
      const refusal = REDEEM_REFUSALS[result];
      throw new PortalError(refusal.status, refusal.message, result);
    }
    // A privilege change: the elevated session gets a new ID, like a change of level does.
    session.data.elevatedUntil = now() + deps.elevationLifetimeSeconds * 1000;
    const elevated = await deps.sessions.regenerate(session, cookie);
    // Ended meanwhile (signed out elsewhere, `gatehouse sessions revoke`): nothing to elevate.
    if (elevated === undefined) throw new PortalError(401, SIGN_IN_FIRST);
    setSessionCookie(res, elevated, cookie);
    deps.logger.info({ username, ip }, 'identity verified: session elevated');
    ok(res, { elevated: true });
  }

  return { start, finish };
}
