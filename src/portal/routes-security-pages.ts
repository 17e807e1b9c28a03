// The security-key pages (SPEC §5): `GET /settings` lists and manages the user's keys; `GET /webauthn/register` is
// where the emailed link lands. Both need a signed-in session; without one the browser is sent to sign in and comes
// back to the same page (its full URL, token included, rides along as rd).
import { Router, type Request, type Response } from 'express';
import type { Storage } from '../storage/storage.js';
import type { UserDetails, UserProvider } from '../users/provider.js';
import type { CookieSettings } from '../session/model.js';
import { portalLocals } from './context.js';
import { renderConfirmIdentity, renderSettings, securityKeyView } from './views/security-keys.js';
import { renderMessage } from './views/pages.js';
import { portalLink } from '../identity/routes.js';

export interface SecurityPageDependencies {
  users: UserProvider;
  storage: Storage;
  /** False under `webauthn.disable`: the pages then say so instead of offering what cannot work. */
  webauthnEnabled: boolean;
}

/** A JWT's shape (three base64url parts), bounded: anything else is not a link Gatehouse sent. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const TOKEN_MAX_LENGTH = 2048;

/** Sends an anonymous visitor to sign in, with rd = the portal page they asked for. */
function signInFirst(res: Response, cookie: CookieSettings, path: string, query: Record<string, string> = {}): void {
  res.redirect(302, `/?${new URLSearchParams({ rd: portalLink(cookie.portalUrl, path, query) }).toString()}`);
}

function page(res: Response, status: number, body: string): void {
  res.status(status).type('html').send(body);
}

/** The signed-in user behind this request, or undefined (anonymous, or no longer in the users file). */
function signedInUser(res: Response, users: UserProvider): UserDetails | undefined {
  const { session } = portalLocals(res);
  return session && session.data.level >= 1 ? users.get(session.data.username) : undefined;
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
    const { cookie } = portalLocals(res);
    const user = signedInUser(res, deps.users);
    if (user === undefined) return signInFirst(res, cookie, 'settings');
    if (!deps.webauthnEnabled) return page(res, 200, renderMessage(KEYS_DISABLED));
    const credentials = await deps.storage.listWebAuthnCredentials(user.username, cookie.portalUrl.hostname);
    page(res, 200, renderSettings({
      displayName: user.displayName,
      username: user.username,
      keys: credentials.map(securityKeyView),
      continueUrl: cookie.defaultRedirectionUrl?.href,
    }));
  });

  router.get('/webauthn/register', (req: Request, res: Response) => {
    const { cookie } = portalLocals(res);
    const token = req.query.token;
    if (typeof token !== 'string' || token.length > TOKEN_MAX_LENGTH || !TOKEN_SHAPE.test(token)) {
      return page(res, 400, renderMessage({
        title: 'This link is not valid',
        message: 'Open the link exactly as it arrived in the email, or ask for a new one from the security keys page.',
        status: 'error',
        actionUrl: '/settings',
        actionLabel: 'Go to security keys',
      }));
    }
    const user = signedInUser(res, deps.users);
    if (user === undefined) return signInFirst(res, cookie, 'webauthn/register', { token });
    if (!deps.webauthnEnabled) return page(res, 200, renderMessage(KEYS_DISABLED));
    page(res, 200, renderConfirmIdentity({ displayName: user.displayName, username: user.username, token }));
  });

  return router;
}
