// "Your sessions" (issue 11 §1): `GET /settings/sessions` lists the signed-in user's live sessions; the JSON API lists
// them too and ends one (`POST /api/sessions/end`) or every other one (`POST /api/sessions/end-others`). Sessions
// are named only by their opaque handle. Ending goes through the session service's delete paths, so every replica
// stops honouring the session at once (the session cache hears it through Redis). Only the user's own sessions can
// be listed or ended: the lookups run in that user's index and nowhere else.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CookieSettings } from '../config/cookies.js';
import type { ListedSession, SessionService } from '../session/service.js';
import { isWellFormedHandle } from '../session/crypto.js';
import { bodyObject, ignoredBody, parseBody } from '../web/body.js';
import { portalLocals } from '../web/context.js';
import { PortalError } from '../web/errors.js';
import { signedInSession } from '../web/guards.js';
import { html, ok } from '../web/replies.js';
import { requestIp } from '../web/client-address.js';
import { portalLink } from '../web/portal-paths.js';
import { safeText } from '../text/safe-text.js';
import { renderSessions, type SessionView } from '../../views/sessions.js';

export interface SessionListDependencies {
  sessions: SessionService;
  cookies: readonly CookieSettings[];
  logger?: Pick<Logger, 'info'>;
}

const endBody = bodyObject({
  handle: z
    .string({ error: 'handle must be a string.' })
    .refine(isWellFormedHandle, { error: 'handle is not a session handle.' }),
});

const ALREADY_ENDED = 'That session has already ended.';

/** The API's view of a session: times as ISO strings, the level as Authelia words it. */
function apiView(s: ListedSession) {
  return {
    handle: s.handle,
    browser: s.browser ?? null,
    os: s.os ?? null,
    address: s.address ?? null,
    firstSeen: new Date(s.createdAt).toISOString(),
    lastSeen: new Date(s.lastActivity).toISOString(),
    level: s.level === 2 ? 'two_factor' : 'one_factor',
    rememberMe: s.rememberMe,
    current: s.current,
  };
}

function pageView(s: ListedSession): SessionView {
  return {
    handle: s.handle,
    browser: s.browser,
    os: s.os,
    address: s.address,
    createdAt: new Date(s.createdAt),
    lastActivity: new Date(s.lastActivity),
    level: s.level === 2 ? 2 : 1,
    rememberMe: s.rememberMe,
    current: s.current,
  };
}

export function sessionListHandlers(deps: SessionListDependencies) {
  const cookieFor = (domain: string) => deps.cookies.find((cookie) => cookie.domain === domain);

  async function page(_req: Request, res: Response): Promise<void> {
    const { cookie, session, user } = portalLocals(res);
    if (user === undefined || session === undefined) {
      res.redirect(302, `/?${new URLSearchParams({ rd: portalLink(cookie.portalUrl, 'settings/sessions') })}`);
      return;
    }
    const listed = await deps.sessions.listUser(user.username, cookieFor, session);
    html(
      res,
      200,
      renderSessions({ displayName: user.displayName, username: user.username, sessions: listed.map(pageView) }),
    );
  }

  async function list(_req: Request, res: Response): Promise<void> {
    const session = signedInSession(res);
    const listed = await deps.sessions.listUser(session.data.username, cookieFor, session);
    ok(res, { sessions: listed.map(apiView) });
  }

  async function end(req: Request, res: Response): Promise<void> {
    const { handle } = parseBody(endBody, req.body);
    const session = signedInSession(res);
    // This device is signed out with /api/logout (which also drops the cookie), not here.
    if (handle === deps.sessions.handleOf(session))
      throw new PortalError(400, 'This is the session you are using: sign out instead.');
    if (!(await deps.sessions.endByHandle(session.data.username, handle))) throw new PortalError(404, ALREADY_ENDED);
    deps.logger?.info(
      { user: safeText(session.data.username), remote_ip: requestIp(req), ended: 1 },
      'session ended by its user from another session',
    );
    ok(res, { ended: 1 });
  }

  async function endOthers(req: Request, res: Response): Promise<void> {
    parseBody(ignoredBody, req.body);
    const session = signedInSession(res);
    const ended = await deps.sessions.endOthers(session.data.username, session);
    deps.logger?.info(
      { user: safeText(session.data.username), remote_ip: requestIp(req), ended },
      'user signed out everywhere else',
    );
    ok(res, { ended });
  }

  return { page, list, end, endOthers };
}
