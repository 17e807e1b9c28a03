// The security-key pages (SPEC §5): `GET /settings` lists and manages the user's keys; `GET /webauthn/register` is
// where the emailed link lands. Both need a signed-in session; without one the browser is sent to sign in and comes
// back to the same page (its full URL, token included, rides along as rd), after the page has checked its link.
import type { Request, Response } from 'express';
import type { Storage } from '../storage/storage.js';
import type { CookieSettings } from '../config/cookies.js';
import { portalLocals } from '../web/context.js';
import { html } from '../web/replies.js';
import {
  renderConfirmIdentity,
  renderConfirmOnly,
  renderLinkProblem,
  renderSettings,
  securityKeyView,
} from '../../views/security-keys.js';
import { renderMessage } from '../../views/pages.js';
import { MAX_TOKEN_LENGTH, type IdentityVerifier } from '../identity/tokens.js';
import { portalLink, portalPath } from '../web/portal-paths.js';
import { relyingParty } from '../webauthn/options.js';
import { RECOVERY_CODE_COUNT } from '../webauthn/recovery-codes.js';

export interface SecurityPageDependencies {
  storage: Storage;
  /** False under `webauthn.disable`: the pages then say so instead of offering what cannot work. */
  webauthnEnabled: boolean;
  /** Checks an emailed link when its page opens (without spending it), so a dead link says so at once. */
  verifier?: Pick<IdentityVerifier, 'check'>;
  /** `enable_passkey_login`: only then does the settings page mark discoverable keys as passkeys. */
  passkeyLogin?: boolean;
}

/** A JWT's shape (three base64url parts), bounded like the verifier: anything else is not a link Gatehouse sent. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const INVALID_LINK = {
  title: 'This link is not valid',
  message: 'Open the link exactly as it arrived in the email, or ask for a new one from the security keys page.',
  status: 'error' as const,
  actionUrl: '/settings',
  actionLabel: 'Go to security keys',
};

/** Sends an anonymous visitor to sign in, with rd = the portal page they asked for. */
function signInFirst(res: Response, cookie: CookieSettings, path: string, query: Record<string, string> = {}): void {
  res.redirect(302, `/?${new URLSearchParams({ rd: portalLink(cookie.portalUrl, path, query) }).toString()}`);
}

const KEYS_DISABLED = {
  title: 'Security keys are turned off',
  message: 'This Gatehouse does not use security keys. Ask your administrator if you expected them.',
  status: 'info' as const,
  actionUrl: '/',
  actionLabel: 'Back',
};

/** The handlers of `GET /settings`, `GET /webauthn/register` and `GET /identity/confirm`. */
export function securityPageHandlers(deps: SecurityPageDependencies) {
  async function settings(_req: Request, res: Response): Promise<void> {
    const { cookie, user } = portalLocals(res);
    if (user === undefined) return signInFirst(res, cookie, 'settings');
    if (!deps.webauthnEnabled) return html(res, 200, renderMessage(KEYS_DISABLED));
    const credentials = await deps.storage.listWebAuthnCredentials(user.username, relyingParty(cookie).id);
    const recoverySet = await deps.storage.findRecoveryCodeSet(user.username);
    html(
      res,
      200,
      renderSettings({
        displayName: user.displayName,
        username: user.username,
        keys: credentials
          .map(securityKeyView)
          .map((key) => ({ ...key, passkey: key.passkey && deps.passkeyLogin === true })),
        continueUrl: cookie.defaultRedirectionUrl?.href,
        recovery: {
          username: user.username,
          hasKeys: credentials.length > 0,
          remaining: recoverySet?.remaining ?? 0,
          total: RECOVERY_CODE_COUNT,
          createdAt: recoverySet?.createdAt,
        },
      }),
    );
  }

  /**
   * The pages behind the emailed links: the link is checked (not spent) as the page opens, so one that belongs to
   * another user, was used or expired says so before the user types anything.
   */
  async function linkProblem(
    res: Response,
    username: string,
    token: string,
    query: Record<string, string>,
    path: string,
    cookie: CookieSettings,
  ): Promise<boolean> {
    const state = deps.verifier ? await deps.verifier.check({ token, username, action: 'register_webauthn' }) : 'ok';
    if (state === 'ok') return false;
    const link = portalLink(cookie.portalUrl, path, query);
    html(
      res,
      state === 'wrong_user' ? 403 : 400,
      renderLinkProblem({
        problem: state,
        username,
        // Signing out and back in as the right user returns to the same link.
        switchUserUrl: `/logout?${new URLSearchParams({ rd: link }).toString()}`,
        returnTo: query.then,
      }),
    );
    return true;
  }

  async function registerLink(req: Request, res: Response): Promise<void> {
    const { cookie, user } = portalLocals(res);
    const token = req.query.token;
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) {
      return html(res, 400, renderMessage(INVALID_LINK));
    }
    if (user === undefined) return signInFirst(res, cookie, 'webauthn/register', { token });
    if (!deps.webauthnEnabled) return html(res, 200, renderMessage(KEYS_DISABLED));
    if (await linkProblem(res, user.username, token, { token }, 'webauthn/register', cookie)) return;
    html(res, 200, renderConfirmIdentity({ displayName: user.displayName, username: user.username, token }));
  }

  // A link that only confirms the user (asked for to rename or delete a key without one at hand): confirming
  // elevates the session and returns to the portal page it names, which finishes the change.
  async function confirmLink(req: Request, res: Response): Promise<void> {
    const { cookie, user } = portalLocals(res);
    const token = req.query.token;
    const then = portalPath(req.query.then);
    if (
      typeof token !== 'string' ||
      token.length > MAX_TOKEN_LENGTH ||
      !TOKEN_SHAPE.test(token) ||
      then === undefined
    ) {
      return html(res, 400, renderMessage(INVALID_LINK));
    }
    if (user === undefined) return signInFirst(res, cookie, 'identity/confirm', { token, then });
    if (!deps.webauthnEnabled) return html(res, 200, renderMessage(KEYS_DISABLED));
    if (await linkProblem(res, user.username, token, { token, then }, 'identity/confirm', cookie)) return;
    html(res, 200, renderConfirmOnly({ displayName: user.displayName, username: user.username, token, then }));
  }

  return { settings, registerLink, confirmLink };
}
