// The proxy's question, answered top to bottom (SPEC §4): parse the target, find the identity (session or Basic
// credentials), evaluate the rules, answer. Served straight from node:http, outside Express, because this path
// runs for every request to every protected app.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { clientAddress, readTarget, type AuthzFlavour, type Target } from './target.js';
import { parseBasicCredentials } from './basic-credentials.js';
import { policyLevel, type CompiledAccessControl } from './rules.js';
import { cookieForTarget } from '../config/cookies.js';
import { readCookieValues } from '../session/cookie.js';
import type { SessionService } from '../session/service.js';
import type { CookieSettings, Session } from '../session/model.js';
import type { UserDetails, UserProvider } from '../users/provider.js';
import type { PasswordChecker } from '../users/password-check.js';
import type { AuthzMetrics, AuthzResult } from '../observability/metrics.js';
import { safeRedirectTarget } from '../portal/safe-redirect.js';
import { requestIdOf } from '../http/request-id.js';

export interface AuthzDependencies {
  cookies: readonly CookieSettings[];
  sessions: SessionService;
  users: UserProvider;
  access: CompiledAccessControl;
  passwords: PasswordChecker;
  logger: Logger;
  metrics?: AuthzMetrics;
  /** Failed Basic credentials are answered no sooner than this (SPEC §4: about 2 s, against guessing). */
  basicFailureFloorMs: number;
}

/** Who is asking, when anyone is: a signed-in session's user, or a user whose Basic credentials checked out. */
interface Identity {
  user: UserDetails;
  level: 1 | 2;
  session?: Session;
}

/** The answer, with who asked and which rule decided (1-based; 0 = default_policy) for the debug log. */
type Outcome =
  | { result: 'allowed' | 'forbidden' | 'sign_in'; user?: UserDetails; rule: number }
  | { result: 'bad_credentials'; user?: undefined; rule?: undefined };

const REALM = 'Basic realm="Authorization Required"';

export function createAuthzHandler(deps: AuthzDependencies) {
  const debug = () => deps.logger.isLevelEnabled('debug');

  return async function handleAuthz(flavour: AuthzFlavour, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let result: AuthzResult = 'error';
    try {
      result = await decideAndAnswer(flavour, req, res);
    } catch (error) {
      // Redis or storage could not answer (or a bug): fail closed with a 5xx, never a pass and never a
      // sign-in redirect that would log everybody out during an outage.
      deps.logger.error({ err: error, requestId: requestIdOf(req), flavour }, 'authz failed');
      answer(res, 503, 'Service Unavailable');
    } finally {
      deps.metrics?.observe(result, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  async function decideAndAnswer(flavour: AuthzFlavour, req: IncomingMessage, res: ServerResponse): Promise<AuthzResult> {
    if (flavour !== 'verify' && req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, 'Method Not Allowed', ['Allow', 'GET, HEAD']);
      return 'bad_request';
    }
    const parsed = readTarget(flavour, req.headers, req.method ?? 'GET');
    if ('error' in parsed) return answerBadRequest(flavour, req, res, parsed.error);
    const target = parsed.target;
    const ip = clientAddress(req.headers, req.socket.remoteAddress);
    if (typeof ip !== 'string') return answerBadRequest(flavour, req, res, ip.error);
    const cookie = cookieForTarget(deps.cookies, target.url);
    if ('error' in cookie) return answerBadRequest(flavour, req, res, cookie.error);

    const outcome = await decide(flavour, req, target, ip, cookie);
    if (debug()) {
      deps.logger.debug({ requestId: requestIdOf(req), flavour, user: outcome.user?.username, target: target.url.href, method: target.method, rule: outcome.rule, result: outcome.result }, 'authz decision');
    }
    switch (outcome.result) {
      case 'allowed':
        answer(res, 200, 'OK', outcome.user ? identityHeaders(outcome.user) : undefined);
        break;
      case 'forbidden':
        answer(res, 403, 'Forbidden');
        break;
      case 'bad_credentials':
        answerBadCredentials(flavour, res);
        break;
      case 'sign_in':
        answerSignIn(flavour, req, res, target, cookie);
        break;
    }
    return outcome.result;
  }

  async function decide(flavour: AuthzFlavour, req: IncomingMessage, target: Target, ip: string, cookie: CookieSettings): Promise<Outcome> {
    const identity = await identify(flavour, req, target, ip, cookie);
    if (identity === 'bad_credentials') return { result: 'bad_credentials' };
    const user = identity?.user;
    // The user record is itself the rules' subject (a username and groups): nothing to copy per request.
    const decision = deps.access.evaluate({ url: target.url, resource: target.resource, method: target.method, ip, subject: user });
    const rule = decision.rule;

    if (user === undefined && decision.subjectRequired) return { result: 'sign_in', rule };
    const required = policyLevel(decision.policy);
    if (required === 'deny') return { result: 'forbidden', user, rule };
    if ((identity?.level ?? 0) >= required) {
      if (identity?.session && deps.sessions.touchDue(identity.session, cookie)) void touch(identity.session, cookie);
      return { result: 'allowed', user, rule };
    }
    // Basic credentials count as level 1 at most: a client that sent them for a two-factor resource is
    // refused outright rather than redirected to a portal it cannot use.
    if (identity && identity.session === undefined) return { result: 'forbidden', user, rule };
    return { result: 'sign_in', user, rule };
  }

  /** The session's user, Basic credentials' user, undefined when anonymous. */
  async function identify(flavour: AuthzFlavour, req: IncomingMessage, target: Target, ip: string, cookie: CookieSettings): Promise<Identity | undefined | 'bad_credentials'> {
    const header = basicHeader(flavour, req);
    if (header !== undefined) {
      const credentials = parseBasicCredentials(header);
      if (credentials === undefined) return undefined;
      if (credentials === 'malformed') {
        await delay(deps.basicFailureFloorMs);
        return 'bad_credentials';
      }
      const user = await deps.passwords.check(
        { ...credentials, ip, authType: 'BASIC', requestUri: target.url.href, requestMethod: target.method },
        { failureFloorMs: deps.basicFailureFloorMs },
      );
      return user ? { user, level: 1 } : 'bad_credentials';
    }
    const session = await deps.sessions.load(readCookieValues(req.headers.cookie, cookie.name), cookie);
    if (session === undefined || session.data.level === 0) return undefined;
    // Disabling a user or removing them from the users file ends their sessions at their next request (SPEC §8).
    const user = deps.users.get(session.data.username);
    if (user === undefined || user.disabled) {
      await deps.sessions.destroy(session);
      return undefined;
    }
    return { user, level: session.data.level, session };
  }

  async function touch(session: Session, cookie: CookieSettings): Promise<void> {
    try {
      await deps.sessions.touch(session, cookie);
    } catch (error) {
      deps.logger.warn({ err: error }, 'could not refresh session activity');
    }
  }

  function basicHeader(flavour: AuthzFlavour, req: IncomingMessage): string | string[] | undefined {
    if (flavour !== 'verify') return req.headers['proxy-authorization'];
    return queryParam(req.url, 'auth') === 'basic' ? req.headers.authorization : undefined;
  }

  function answerBadRequest(flavour: AuthzFlavour, req: IncomingMessage, res: ServerResponse, reason: string): AuthzResult {
    if (debug()) deps.logger.debug({ requestId: requestIdOf(req), flavour, reason }, 'authz bad request');
    answer(res, 400, 'Bad Request');
    return 'bad_request';
  }

  function answerBadCredentials(flavour: AuthzFlavour, res: ServerResponse): void {
    if (flavour === 'forward-auth') answer(res, 407, 'Proxy Authentication Required', ['Proxy-Authenticate', REALM]);
    else answer(res, 401, 'Unauthorized', ['WWW-Authenticate', REALM]);
  }

  function answerSignIn(flavour: AuthzFlavour, req: IncomingMessage, res: ServerResponse, target: Target, cookie: CookieSettings): void {
    if (flavour === 'auth-request') {
      // nginx turns this 401 into a redirect with the Location it copies from here.
      answer(res, 401, 'Unauthorized', ['Location', portalRedirect(cookie.portalUrl, target)]);
      return;
    }
    if (flavour === 'verify') {
      // Authelia 4.37: the portal comes from ?rd= or X-Authelia-URL; without one (or with an unsafe one) a bare 401.
      const portal = safeRedirectTarget(queryParam(req.url, 'rd') ?? req.headers['x-authelia-url'], deps.cookies);
      if (portal === undefined) {
        answer(res, 401, 'Unauthorized');
        return;
      }
      answerRedirect(res, target, portalRedirect(portal.url, target));
      return;
    }
    const location = portalRedirect(cookie.portalUrl, target);
    if (wantsStatusOnly(req)) answer(res, 401, 'Unauthorized', ['Location', location]);
    else answerRedirect(res, target, location);
  }
}

function answerRedirect(res: ServerResponse, target: Target, location: string): void {
  const safeMethod = target.method === 'GET' || target.method === 'HEAD' || target.method === 'OPTIONS';
  answer(res, safeMethod ? 302 : 303, safeMethod ? 'Found' : 'See Other', ['Location', location]);
}

/** XHR and non-HTML clients get 401 with a Location rather than a redirect they cannot follow. */
function wantsStatusOnly(req: IncomingMessage): boolean {
  if (req.headers['x-requested-with'] === 'XMLHttpRequest') return true;
  const accept = req.headers.accept;
  if (accept === undefined) return true;
  return !(accept.includes('text/html') || /^\s*\*\/\*/.test(accept));
}

function portalRedirect(portal: URL, target: Target): string {
  const base = portal.href.split(/[?#]/)[0]!;
  return `${base}?rd=${encodeURIComponent(target.url.href)}&rm=${target.method}`;
}

/**
 * Identity headers for the upstream. Values are sent as UTF-8 bytes (Node writes header strings as latin1, so the
 * UTF-8 bytes are passed through as latin1 code units); the users file refuses control characters in them.
 */
function identityHeaders(user: UserDetails): HeaderList {
  // The provider hands out the same object until the users file changes, so the encoded headers are made once.
  let headers = identityHeaderCache.get(user);
  if (headers === undefined) {
    headers = [
      'Remote-User', utf8Header(user.username),
      'Remote-Groups', utf8Header(user.groups.join(',')),
      'Remote-Name', utf8Header(user.displayName),
      'Remote-Email', utf8Header(user.emails[0] ?? ''),
    ];
    identityHeaderCache.set(user, headers);
  }
  return headers;
}

const identityHeaderCache = new WeakMap<UserDetails, HeaderList>();

function utf8Header(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : Buffer.from(clean, 'utf8').toString('latin1');
}

function queryParam(rawUrl: string | undefined, name: string): string | undefined {
  const q = rawUrl?.indexOf('?') ?? -1;
  if (q < 0) return undefined;
  return new URLSearchParams(rawUrl!.slice(q + 1)).get(name) ?? undefined;
}

/** Headers as a flat [name, value, ...] list: Node's fastest path for writing them. */
type HeaderList = string[];

function answer(res: ServerResponse, status: number, text: string, headers?: HeaderList): void {
  const body = `${status} ${text}\n`;
  const list = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), 'Cache-Control', 'no-store'];
  if (headers !== undefined) list.push(...headers);
  res.writeHead(status, list);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
