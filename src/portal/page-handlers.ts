// The portal's server-rendered pages (SPEC §5): sign-in, "signed in as", sign-out. The route table (http/routes.ts)
// mounts these handlers.
import type { Request, Response } from 'express';
import type { SessionService } from '../session/service.js';
import { renderMessage, renderSignIn, renderSignedIn } from '../../views/pages.js';
import { endSession, portalLocals } from '../web/context.js';
import { html } from '../web/replies.js';
import { requestIp } from '../web/client-address.js';
import { normaliseMethod } from '../authz/target.js';
import { safeRedirectTarget } from '../web/safe-redirect.js';
import type { SignIn } from '../web/sign-in.js';
import type { CookieSettings } from '../config/cookies.js';
import { renderSecondFactor } from '../../views/security-keys.js';
import type { SecurityPageDependencies } from './security-page-handlers.js';
import { relyingParty } from '../webauthn/options.js';
import { secondFactorTooOld } from '../authz/rules.js';
import type { Logger } from 'pino';
import { SecurityEvents } from '../observability/events.js';

export interface PageDependencies {
  sessions: SessionService;
  signIn: SignIn;
  cookies: readonly CookieSettings[];
  passkeyLogin: boolean;
  /** Storage and the WebAuthn switch: whether the user has a key decides the step after the password. */
  securityPages: SecurityPageDependencies;
  /** Where sign-outs are logged (observability/events.ts). */
  logger?: Pick<Logger, 'info'>;
}

/** What the step-up page says (a rule's max_auth_age): why a signed-in user is asked for the key again. */
export const STEP_UP_NOTICE = 'This page needs a recent security-key check';

function queryString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 4096 ? value : undefined;
}

/** The handlers of `GET /` (sign-in, next step, "signed in as") and `GET /logout`. */
export function pageHandlers(deps: PageDependencies) {
  async function signInPage(req: Request, res: Response): Promise<void> {
    const { cookie, session, user } = portalLocals(res);
    const rd = queryString(req.query.rd);
    // An unsafe rd is dropped here so that it never reaches the page, the script or a later redirect.
    const safeRd = safeRedirectTarget(rd, deps.cookies) ? rd : undefined;
    const safeRm = normaliseMethod(queryString(req.query.rm));

    if (session === undefined || user === undefined) {
      // `/logout` comes back here with signed_out: say that it worked (the value itself is never shown).
      const notice =
        req.query.signed_out !== undefined && safeRd === undefined ? 'You have been signed out.' : undefined;
      return html(
        res,
        200,
        renderSignIn({
          rd: safeRd,
          rm: safeRm,
          rememberMeEnabled: cookie.rememberMe > 0,
          passkeyEnabled: deps.passkeyLogin,
          notice,
        }),
      );
    }
    const level = session.data.level;
    const { storage, webauthnEnabled } = deps.securityPages;
    const hasKeys = async () =>
      (await storage.listWebAuthnCredentials(user.username, relyingParty(cookie).id)).length > 0;
    const afterPasskey = session.data.firstFactor === 'passkey';
    const secondFactor = async (target: string | undefined) =>
      afterPasskey
        ? // SPEC §5: after a passkey, the password is the second step (the key cannot count twice).
          html(
            res,
            200,
            renderSignIn({
              rd: target,
              rm: target && safeRm,
              username: user.username,
              rememberMeEnabled: false,
              passkeyEnabled: false,
              notice: 'You signed in with a passkey. This application also needs your password.',
            }),
          )
        : html(
            res,
            200,
            renderSecondFactor({
              displayName: user.displayName,
              username: user.username,
              rd: target,
              rm: target && safeRm,
              hasKeys: await hasKeys(),
              recoveryCodes: ((await storage.findRecoveryCodeSet(user.username))?.remaining ?? 0) > 0,
            }),
          );
    if (safeRd !== undefined) {
      // The portal's own pages (settings, the emailed registration link) check the session themselves; access
      // control rules are written for the protected apps, not for the portal.
      if (new URL(safeRd).origin === cookie.portalUrl.origin) return res.redirect(302, safeRd);
      const needed = deps.signIn.levelNeeded(safeRd, safeRm, user, cookie, requestIp(req));
      // Step-up: a level-2 session whose key use is older than the rule's max_auth_age is not sent back (the authz
      // endpoint would send it here again: a loop) but asked for the key only, never the password.
      const stale =
        needed !== undefined &&
        needed.level === 2 &&
        level === 2 &&
        secondFactorTooOld(needed, session.data.secondFactorAt, Date.now());
      if (needed !== undefined && needed.level <= level && !stale) return res.redirect(302, needed.url);
      if (stale && webauthnEnabled) {
        return html(
          res,
          200,
          renderSecondFactor({
            displayName: user.displayName,
            username: user.username,
            rd: safeRd,
            rm: safeRm,
            hasKeys: await hasKeys(),
            notice: STEP_UP_NOTICE,
          }),
        );
      }
      if (needed !== undefined && needed.level === 2) {
        // A missing second factor; or, with WebAuthn off, a too old one (no key can be given then either).
        if (webauthnEnabled) return secondFactor(safeRd);
        return html(
          res,
          200,
          renderMessage({
            title: 'A security key is needed',
            message: 'This application asks for a second factor, and security keys are turned off on this Gatehouse.',
            status: 'info',
            actionUrl: '/logout',
            actionLabel: 'Sign out',
          }),
        );
      }
      if (needed === undefined) {
        // Another account may open it: signing out with the target as rd leads back through sign-in.
        return html(
          res,
          403,
          renderMessage({
            title: 'Access denied',
            message: `You are signed in as ${user.username}, who may not open that page.`,
            status: 'error',
            actionUrl: `/logout?${new URLSearchParams({ rd: safeRd }).toString()}`,
            actionLabel: 'Sign in as someone else',
            secondaryUrl: cookie.defaultRedirectionUrl?.href ?? '/',
            secondaryLabel: 'Go back',
          }),
        );
      }
    }
    // SPEC §5: after the password, a user who has a key is asked for it even when nothing needs it yet.
    if (level === 1 && webauthnEnabled && !afterPasskey && (await hasKeys())) return secondFactor(undefined);
    return html(
      res,
      200,
      renderSignedIn({
        displayName: user.displayName,
        username: user.username,
        level,
        continueUrl: cookie.defaultRedirectionUrl?.href,
        logoutUrl: '/logout',
        settingsUrl: webauthnEnabled ? '/settings' : undefined,
      }),
    );
  }

  async function logout(req: Request, res: Response): Promise<void> {
    const { cookie, session } = portalLocals(res);
    await endSession(res, deps.sessions, session, cookie);
    if (deps.logger && session !== undefined && session.data.level > 0)
      new SecurityEvents(deps.logger).signOut({ remoteIp: requestIp(req), user: session.data.username });
    const target = safeRedirectTarget(queryString(req.query.rd), deps.cookies);
    res.redirect(302, target ? target.url.href : '/?signed_out');
  }

  return { signInPage, logout };
}
