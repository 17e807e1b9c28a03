// The security-key pages (SPEC §5): `GET /settings` lists and manages the user's keys; `GET /webauthn/register` is
// where the emailed link lands. Both need a signed-in session; without one the browser is sent to sign in and comes
// back to the same page (its full URL, token included, rides along as rd).
import { Router, type Request, type Response } from 'express';
import type { Storage } from '../storage/storage.js';
import type { CookieSettings } from '../session/model.js';
import { portalLocals } from './context.js';
import { html } from './http-helpers.js';
import { renderConfirmIdentity, renderSettings, securityKeyView } from './views/security-keys.js';
import { renderMessage } from './views/pages.js';
import { portalLink } from '../identity/routes.js';
import { MAX_TOKEN_LENGTH } from '../identity/tokens.js';
import { relyingParty } from '../webauthn/options.js';

export interface SecurityPageDependencies {
  storage: Storage;
  /** False under `webauthn.disable`: the pages then say so instead of offering what cannot work. */
  webauthnEnabled: boolean;
}

/** A JWT's shape (three base64url parts), bounded like the verifier: anything else is not a link Gatehouse sent. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

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

export function securityPageRoutes(deps: SecurityPageDependencies): Router {
  const router = Router();

  router.get('/settings', async (_req: Request, res: Response) => {
    const { cookie, user } = portalLocals(res);
    if (user === undefined) return signInFirst(res, cookie, 'settings');
    if (!deps.webauthnEnabled) return html(res, 200, renderMessage(KEYS_DISABLED));
    const credentials = await deps.storage.listWebAuthnCredentials(user.username, relyingParty(cookie).id);
    html(res, 200, renderSettings({
      displayName: user.displayName,
      username: user.username,
      keys: credentials.map(securityKeyView),
      continueUrl: cookie.defaultRedirectionUrl?.href,
    }));
  });

  router.get('/webauthn/register', (req: Request, res: Response) => {
    const { cookie, user } = portalLocals(res);
    const token = req.query.token;
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) {
      return html(res, 400, renderMessage({
        title: 'This link is not valid',
        message: 'Open the link exactly as it arrived in the email, or ask for a new one from the security keys page.',
        status: 'error',
        actionUrl: '/settings',
        actionLabel: 'Go to security keys',
      }));
    }
    if (user === undefined) return signInFirst(res, cookie, 'webauthn/register', { token });
    if (!deps.webauthnEnabled) return html(res, 200, renderMessage(KEYS_DISABLED));
    html(res, 200, renderConfirmIdentity({ displayName: user.displayName, username: user.username, token }));
  });

  return router;
}
