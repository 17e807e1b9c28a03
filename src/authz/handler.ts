// The proxy's question, answered top to bottom (SPEC §4) as Authelia's authz handler answers it: parse the target,
// find its cookie domain and portal, find the identity (the endpoint's authn strategies, in order), evaluate the
// rules, answer. Served straight from node:http, outside Express, because this path runs for every request to every
// protected app. What differs between the proxy flavours is their row in flavours.ts, read here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { clientAddress, parseTargetUrl, type Target, UNKNOWN_ADDRESS } from './target.js';
import { FLAVOURS, type Flavour, readTargetMemoised } from './flavours.js';
import { TargetMemo } from './target-memo.js';
import { DecisionMemo } from './decision-memo.js';
import { parseAuthorization } from './basic-credentials.js';
import type { AuthnStrategy, AuthzEndpoint, Challenge } from '../config/authz-endpoints.js';
import type { TrustedProxies } from './ip.js';
import { policyLevel, secondFactorTooOld, type CompiledAccessControl } from './rules.js';
import { cookieForTarget, hostIsWithin } from '../config/cookies.js';
import { readCookieValues } from '../session/cookie.js';
import type { SessionService } from '../session/service.js';
import type { Offload } from './offload.js';
import type { Session } from '../session/model.js';
import type { CookieSettings } from '../config/cookies.js';
import { currentUser, type UserDetails, type UserProvider } from '../users/provider.js';
import { PasswordCheckBusyError, type PasswordChecker } from '../users/password-check.js';
import { UserDirectoryUnavailableError } from '../observability/backend-errors.js';
import type { AuthzMetrics, AuthzResult } from '../observability/metrics.js';
import { requestIdOf } from '../observability/request-id.js';
import { peerAddressOf } from './peer.js';
import { backendOf, type Outages } from '../observability/outages.js';
import type { Authentication, IdentityTokens } from './identity-token.js';

/** What answering at once needs of the sessions: the cache's word, and the activity touch. */
export type AtOnceSessions = Pick<SessionService, 'peek' | 'touchDue' | 'touch'>;

interface CommonDependencies {
  cookies: readonly CookieSettings[];
  users: Pick<UserProvider, 'get' | 'lookup' | 'alwaysLookup'>;
  access: CompiledAccessControl;
  logger: Logger;
  metrics?: AuthzMetrics;
  /** Told of each 503 owed to Redis or storage: it logs the outage once and counts (absent: logged per request). */
  outages?: Pick<Outages, 'answered503'>;
  /** `server.trusted_proxies`: whose X-Forwarded-For is believed (target.ts `clientAddress`). */
  trustedProxies?: TrustedProxies;
  /**
   * Signed identity tokens for the passes that want one (identity_token); absent: none configured. With `offload`,
   * only `cached` is asked: a token not cached is the main thread's to sign.
   */
  identityTokens?: Pick<IdentityTokens, 'wanted' | 'cached' | 'header'>;
}

/** Where the answer needs I/O (a store read, a password check): the main thread answers it all itself. */
interface AnsweringDependencies extends CommonDependencies {
  users: UserProvider;
  identityTokens?: IdentityTokens;
  /** Failed Basic credentials are answered no sooner than this (SPEC §4: about 2 s, against guessing). */
  basicFailureFloorMs: number;
  sessions: SessionService;
  passwords: PasswordChecker;
  offload?: undefined;
}

/**
 * The front worker's handler (docs/design/authz-isolate.md): it answers only what needs no I/O and hands every other
 * question, untouched, to `offload`. It has no store and no password checker, so it cannot answer one by mistake.
 */
interface FrontDependencies extends CommonDependencies {
  sessions: AtOnceSessions;
  passwords?: undefined;
  offload: Offload;
}

export type AuthzDependencies = AnsweringDependencies | FrontDependencies;

/** Who is asking, when anyone is: a signed-in session's user, or a user whose Basic credentials checked out. */
interface Identity {
  user: UserDetails;
  level: 1 | 2;
  /** Read-only: it may be the session cache's own object (`SessionService.peek`). */
  session?: Readonly<Session>;
}

/**
 * What the strategies found. `failed`: credentials were sent and are wrong (or required and missing). `challenger`:
 * the header strategy that answers a refusal with its own 401/407 challenge (the one that authenticated or failed,
 * or the last one tried when none did), as Authelia's `CanHandleUnauthorized`.
 */
interface Authn {
  identity?: Identity;
  failed?: true;
  challenger?: Challenge;
}

/** What one question is about, read once from the proxy's request. */
interface Question {
  endpoint: AuthzEndpoint;
  row: Flavour;
  req: IncomingMessage;
  res: ServerResponse;
  target: Target;
  ip: string | undefined;
  cookie: CookieSettings;
  portal: URL | null;
}

/** The answer, with who asked and which rule decided (1-based; 0 = default_policy) for the debug log. */
type Outcome =
  | {
      result: 'allowed' | 'forbidden' | 'sign_in';
      user?: UserDetails;
      rule: number;
      challenge?: Challenge;
      identity?: Identity;
    }
  | { result: 'bad_credentials'; user?: undefined; rule: number; challenge: Challenge };

const FAILED = 'failed';
/** A question handed to `offload`: the main thread answers and counts it. */
const OFFLOADED = 'offloaded';
type Decided = AuthzResult | typeof OFFLOADED | Promise<AuthzResult | typeof OFFLOADED>;
/** A live session that names nobody yet (level 0: it carries ceremony state only). */
const ANONYMOUS = 'anonymous';
/** The common answer of the strategies (no credentials, no session): shared, nothing allocated per request. */
const NOBODY: Authn = Object.freeze({});
const REALM = 'Basic realm="Authorization Required"';
const WWW_CHALLENGE: Challenge = { status: 401, header: 'WWW-Authenticate' };
/** Authelia's failure answers, in its words (tests compare the body). */
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  503: 'Service Unavailable',
};

export function createAuthzHandler(deps: AuthzDependencies) {
  /** The main thread's handler, or none in the front worker (it offloads whatever needs I/O). */
  const io = deps.offload === undefined ? (deps as AnsweringDependencies) : undefined;
  const debug = () => deps.logger.isLevelEnabled('debug');
  // What a warm question costs is mostly reading the target and walking the rules: both are remembered.
  const targets = new TargetMemo();
  const decisions = new DecisionMemo();
  /** A target's cookie domain (or why it has none), as the configured cookie domains never change. */
  const cookieDomains = new WeakMap<Target, ReturnType<typeof cookieForTarget>>();

  /**
   * Answers one question. Not an async function: when nothing needs I/O (no credentials to check, a warm session or
   * none) the answer is written before this returns, inside the request's own callback, with no promise made; only
   * a store read or a password check goes asynchronous.
   */
  return function handleAuthz(endpoint: AuthzEndpoint, req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    let decided: Decided;
    try {
      decided = decideAndAnswer(endpoint, req, res);
    } catch (error) {
      failed(endpoint, req, res, error, started);
      return;
    }
    // Offloaded: the main thread answers it, and counts it.
    if (decided === OFFLOADED) return;
    if (typeof decided === 'string') observe(decided, started);
    else
      decided.then(
        (result) => {
          if (result !== OFFLOADED) observe(result, started);
        },
        (error: unknown) => failed(endpoint, req, res, error, started),
      );
  };

  /** Hands the question to the main thread as it came; nothing has been written to `res` yet. */
  function offload(req: IncomingMessage, res: ServerResponse): typeof OFFLOADED {
    deps.offload!(req, res);
    return OFFLOADED;
  }

  function observe(result: AuthzResult, started: bigint): void {
    deps.metrics?.observe(result, Number(process.hrtime.bigint() - started) / 1e9);
  }

  function failed(endpoint: AuthzEndpoint, req: IncomingMessage, res: ServerResponse, error: unknown, started: bigint) {
    if (error instanceof UserDirectoryUnavailableError) {
      // LDAP down while Basic credentials (or a session whose user is not held in memory) needed it: fail closed,
      // never a sign-in redirect (which would end nothing but tell the user to retype a password that cannot be checked).
      deps.logger.warn({ requestId: requestIdOf(req), err: error }, 'authz answered 503: user directory unavailable');
      if (!res.headersSent) answer(res, FLAVOURS[endpoint.flavour], 503, ['Retry-After', '1']);
      observe('error', started);
      return;
    }
    if (error instanceof PasswordCheckBusyError) {
      // Another check of the same user's password held the lock for the whole wait, or this replica's hash slots
      // were full: not an outage, not wrong credentials; the client may simply try again.
      deps.logger.info(
        { requestId: requestIdOf(req), flavour: endpoint.flavour, reason: error.message },
        'basic credentials not checked: busy',
      );
      answer(res, FLAVOURS[endpoint.flavour], 503, ['Retry-After', '1']);
      observe('error', started);
      return;
    }
    // Redis or storage could not answer (or a bug): fail closed with a 5xx, never a pass and never a
    // sign-in redirect that would log everybody out during an outage. An outage is logged once, not per
    // request (thousands a second); anything else is a bug, logged in full.
    const backend = deps.outages ? backendOf(error) : undefined;
    if (backend !== undefined) deps.outages!.answered503(backend, error);
    else deps.logger.error({ err: error, requestId: requestIdOf(req), flavour: endpoint.flavour }, 'authz failed');
    if (!res.headersSent) answer(res, FLAVOURS[endpoint.flavour], 503);
    observe('error', started);
  }

  /** The question read, the identity found (at once when it can be, else after I/O), the answer written. */
  function decideAndAnswer(endpoint: AuthzEndpoint, req: IncomingMessage, res: ServerResponse): Decided {
    const flavour = endpoint.flavour;
    const row = FLAVOURS[flavour];
    if (row.callMethods !== undefined && !row.callMethods.includes(req.method ?? '')) {
      answer(res, row, 405, ['Allow', row.callMethods.join(', ')]);
      return 'bad_request';
    }
    const parsed = readTargetMemoised(targets, flavour, req.headers, req.method ?? 'GET');
    if ('error' in parsed) return answerBadRequest(endpoint, req, res, parsed.error);
    const target = parsed.target;
    let cookie = cookieDomains.get(target);
    if (cookie === undefined) {
      cookie = cookieForTarget(deps.cookies, target.url);
      cookieDomains.set(target, cookie);
    }
    if ('error' in cookie) return answerBadRequest(endpoint, req, res, cookie.error);
    const portal = portalFor(row, req, cookie);
    if (portal !== null && 'error' in portal) return answerBadRequest(endpoint, req, res, portal.error);
    const ip = clientAddress(req.headers, peerAddressOf(req), deps.trustedProxies);
    if (ip === undefined && debug()) {
      deps.logger.debug(
        { requestId: requestIdOf(req), flavour },
        'client address unknown (blank or garbled X-Forwarded-For): no networks rule matches',
      );
    }
    const question: Question = { endpoint, row, req, res, target, ip, cookie, portal };
    const known = authenticateAtOnce(endpoint, req, cookie);
    if (known !== undefined) return conclude(question, known);
    if (io === undefined) return offload(req, res);
    return authenticate(io, endpoint, req, target, ip, cookie).then((authn) => conclude(question, authn));
  }

  /** From the identity found to the answer written: the rules, then the answer for the proxy. */
  function conclude(question: Question, authn: Authn): Decided {
    const { endpoint, row, req, res, target, portal, cookie } = question;
    const outcome = decide(question, authn);
    if (debug()) {
      deps.logger.debug(
        {
          requestId: requestIdOf(req),
          flavour: endpoint.flavour,
          user: outcome.user?.username,
          target: target.url.href,
          method: target.method,
          rule: outcome.rule,
          result: outcome.result,
        },
        'authz decision',
      );
    }
    if (outcome.challenge !== undefined && outcome.result !== 'allowed' && outcome.result !== 'forbidden') {
      answer(res, row, outcome.challenge.status, [outcome.challenge.header, REALM]);
      return outcome.result;
    }
    switch (outcome.result) {
      case 'allowed':
        // A signed-in pass to a target that wants the identity token carries it: the cached one at once, else signed
        // first (no key loaded: it throws, and the answer is 503).
        if (outcome.identity !== undefined && deps.identityTokens?.wanted(cookie, outcome.rule)) {
          const tokens = deps.identityTokens;
          const auth = authenticationOf(outcome.identity);
          const audience = target.url.origin;
          const cached = tokens.cached(outcome.identity.user, auth, outcome.identity.level, audience);
          if (cached !== undefined) answerAllowed(res, outcome.user, [tokens.header, cached]);
          else if (io?.identityTokens === undefined) return offload(req, res);
          else
            return io.identityTokens
              .token(outcome.identity.user, auth, outcome.identity.level, cookie, audience)
              .then((token) => {
                answerAllowed(res, outcome.user, [tokens.header, token]);
                return outcome.result;
              });
        } else answerAllowed(res, outcome.user);
        break;
      case 'forbidden':
        answer(res, row, 403);
        break;
      case 'bad_credentials':
      case 'sign_in':
        answerSignIn(row, req, res, target, portal);
        break;
    }
    return outcome.result;
  }

  function decide(question: Question, authn: Authn): Outcome {
    const { target, ip, cookie } = question;
    const identity = authn.identity;
    const user = identity?.user;
    // The user record is itself the rules' subject (a username and groups): nothing to copy per request.
    let decision = decisions.get(target, ip, user);
    if (decision === undefined) {
      decision = deps.access.evaluate({
        url: target.url,
        resource: target.resource,
        method: target.method,
        ip,
        subject: user,
      });
      decisions.remember(target, ip, user, decision);
    }
    const rule = decision.rule;
    const challenge = authn.challenger;
    // Any request with a valid session is activity, whatever the answer (Authelia updates it on a 403 too).
    if (identity?.session && deps.sessions.touchDue(identity.session, cookie)) void touch(identity.session, cookie);

    if (authn.failed) {
      // Wrong credentials still pass a bypass rule anonymously (Authelia); anything else is the strategy's challenge.
      if (decision.policy === 'bypass' && !decision.subjectRequired) return { result: 'allowed', rule };
      return { result: 'bad_credentials', rule, challenge: challenge ?? WWW_CHALLENGE };
    }
    if (user === undefined && decision.subjectRequired) return { result: 'sign_in', rule, challenge };
    const required = policyLevel(decision.policy);
    if (required === 'deny') return { result: 'forbidden', user, rule };
    if ((identity?.level ?? 0) >= required) {
      // Step-up (max_auth_age): a second factor used too long ago is answered exactly as a missing one.
      if (
        decision.maxAuthAge === undefined ||
        !secondFactorTooOld(decision, identity?.session?.data.secondFactorAt, Date.now())
      )
        return { result: 'allowed', user, rule, identity };
    }
    // Basic credentials count as level 1 at most: a two-factor resource answers them with the challenge (Authelia),
    // never with a portal redirect the client cannot use.
    return { result: 'sign_in', user, rule, challenge };
  }

  /**
   * The strategies' answer when it needs no I/O: no credentials sent to any header strategy, and the cookie either
   * names no session or names one the session cache may answer for alone, whose user is present, enabled and the
   * one the proxy expects. undefined: ask `authenticate` (a store read, a password check, or a session to end).
   */
  function authenticateAtOnce(
    endpoint: AuthzEndpoint,
    req: IncomingMessage,
    cookie: CookieSettings,
  ): Authn | undefined {
    let last: AuthnStrategy | undefined;
    for (const strategy of endpoint.strategies) {
      last = strategy;
      if (strategy.kind !== 'cookie') {
        // As `fromHeader` reads them: credentials sent (or required by ?auth=basic) need the password check.
        if (strategy.kind === 'legacy' && queryParam(req.url, 'auth') === 'basic') return undefined;
        if (hasValue(req.headers[strategy.kind === 'header' ? strategy.header : 'proxy-authorization']))
          return undefined;
        continue;
      }
      const values = readCookieValues(req.headers.cookie, cookie.name);
      if (values.length === 0) continue;
      const session = deps.sessions.peek(values, cookie);
      if (session === undefined) return undefined;
      // A user the backend does not hold (LDAP after a restart, or refresh_interval always) is read asynchronously.
      if (session.data.level > 0 && mustLookUp(session.data.username)) return undefined;
      const found = identityOf(session, req);
      if (found === undefined) return undefined;
      if (found !== ANONYMOUS) return { identity: found, challenger: challengeOf(strategy) };
    }
    const challenger = last === undefined ? undefined : challengeOf(last);
    return challenger === undefined ? NOBODY : { challenger };
  }

  /** The endpoint's strategies in order, as Authelia's authn loop: the first identity wins, the first failure ends it. */
  async function authenticate(
    io: AnsweringDependencies,
    endpoint: AuthzEndpoint,
    req: IncomingMessage,
    target: Target,
    ip: string | undefined,
    cookie: CookieSettings,
  ): Promise<Authn> {
    let last: AuthnStrategy | undefined;
    for (const strategy of endpoint.strategies) {
      last = strategy;
      // Most requests carry no credentials: skip those strategies without a turn of the event loop.
      if (strategy.kind === 'header' && !hasValue(req.headers[strategy.header])) continue;
      const found =
        strategy.kind === 'cookie'
          ? await fromSession(io, req, cookie)
          : await fromHeader(io, strategy, req, target, ip);
      if (found === FAILED) return { failed: true, challenger: challengeOf(strategy) };
      if (found !== undefined) return { identity: found, challenger: challengeOf(strategy) };
    }
    const challenger = last === undefined ? undefined : challengeOf(last);
    return challenger === undefined ? NOBODY : { challenger };
  }

  /** Basic credentials from the strategy's header: an identity, undefined when none were sent, or FAILED. */
  async function fromHeader(
    io: AnsweringDependencies,
    strategy: Exclude<AuthnStrategy, { kind: 'cookie' }>,
    req: IncomingMessage,
    target: Target,
    ip: string | undefined,
  ): Promise<Identity | undefined | typeof FAILED> {
    // The legacy strategy reads Authorization with ?auth=basic (then credentials are required), else Proxy-Authorization.
    const required = strategy.kind === 'legacy' && queryParam(req.url, 'auth') === 'basic';
    const name = strategy.kind === 'header' ? strategy.header : required ? 'authorization' : 'proxy-authorization';
    const header = req.headers[name];
    if (header === undefined || header === '') return required ? FAILED : undefined;
    const credentials = parseAuthorization(header);
    if (credentials !== 'malformed' && credentials.scheme === 'bearer') {
      // Gatehouse issues no bearer tokens: a header strategy passes one by (it may be the app's own); legacy refuses it.
      return strategy.kind === 'legacy' ? FAILED : undefined;
    }
    if (credentials === 'malformed') {
      await delay(io.basicFailureFloorMs);
      return FAILED;
    }
    const user = await io.passwords.check(
      {
        username: credentials.username,
        password: credentials.password,
        ip: ip ?? UNKNOWN_ADDRESS,
        authType: 'BASIC',
        requestUri: target.url.href,
        requestMethod: target.method,
      },
      { failureFloorMs: io.basicFailureFloorMs },
    );
    return user ? { user, level: 1 } : FAILED;
  }

  /** The session's user, undefined when anonymous (ending the session when its user may no longer use it). */
  async function fromSession(
    io: AnsweringDependencies,
    req: IncomingMessage,
    cookie: CookieSettings,
  ): Promise<Identity | undefined> {
    const session = await io.sessions.load(readCookieValues(req.headers.cookie, cookie.name), cookie);
    if (session === undefined) return undefined;
    // LDAP: read the user from the directory when not held (it is held afterwards); throws when it cannot answer.
    if (session.data.level > 0 && mustLookUp(session.data.username)) await currentUser(io.users, session.data.username);
    const found = identityOf(session, req);
    if (found === ANONYMOUS) return undefined;
    if (found === undefined) {
      await io.sessions.destroy(session);
      return undefined;
    }
    return found;
  }

  /**
   * Who a live session names: ANONYMOUS for a level-0 session; undefined when the session must end: disabling a
   * user or removing them from the users file ends their sessions at their next request (SPEC §8), and a proxy may
   * name the user it expects in Session-Username (Authelia), where another user's cookie ends too.
   */
  /** True when the user must be read from the backend first (no query for the users file or a held LDAP user). */
  function mustLookUp(username: string): boolean {
    return (
      deps.users.lookup !== undefined && (deps.users.alwaysLookup === true || deps.users.get(username) === undefined)
    );
  }

  function identityOf(session: Readonly<Session>, req: IncomingMessage): Identity | typeof ANONYMOUS | undefined {
    if (session.data.level === 0) return ANONYMOUS;
    const user = deps.users.get(session.data.username);
    const expected = req.headers['session-username'];
    if (
      user === undefined ||
      user.disabled ||
      (expected !== undefined && !sameUsername(expected, session.data.username))
    )
      return undefined;
    return { user, level: session.data.level, session };
  }

  async function touch(session: Readonly<Session>, cookie: CookieSettings): Promise<void> {
    try {
      await deps.sessions.touch(session, cookie);
    } catch (error) {
      deps.logger.warn({ err: error }, 'could not refresh session activity');
    }
  }

  /**
   * The portal to send a visitor to: the one the caller names where the flavour reads it, else the flavour's
   * fallback. A given portal must lie under the target's own cookie domain (another domain's portal would set a
   * cookie the target never sees: a sign-in loop), https unless that domain's portal is http (localhost trials).
   * null: no portal.
   */
  function portalFor(row: Flavour, req: IncomingMessage, cookie: CookieSettings): URL | null | { error: string } {
    const header = row.portal.header === undefined ? undefined : req.headers[row.portal.header];
    const raw = queryParam(req.url, row.portal.query) ?? (typeof header === 'string' ? header : undefined);
    if (raw === undefined || raw === '') return row.portal.otherwise === 'none' ? null : cookie.portalUrl;
    if (raw.length > 4096) return { error: 'portal URL too long' };
    const url = parseTargetUrl(raw);
    if ('error' in url) return { error: `malformed portal URL: ${url.error}` };
    if (!hostIsWithin(url.hostname, cookie.domain))
      return { error: `portal URL is not under the target's cookie domain ${cookie.domain}` };
    if (url.protocol !== 'https:' && cookie.portalUrl.protocol !== 'http:')
      return { error: 'portal URL must be https' };
    return url;
  }

  function answerBadRequest(
    endpoint: AuthzEndpoint,
    req: IncomingMessage,
    res: ServerResponse,
    reason: string,
  ): AuthzResult {
    if (debug())
      deps.logger.debug({ requestId: requestIdOf(req), flavour: endpoint.flavour, reason }, 'authz bad request');
    const row = FLAVOURS[endpoint.flavour];
    answer(res, row, row.unusableStatus);
    return 'bad_request';
  }

  function answerSignIn(
    row: Flavour,
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    portal: URL | null,
  ): void {
    if (portal === null) {
      // No portal named and none to fall back on: nowhere to send the visitor.
      answer(res, row, 401);
      return;
    }
    const location = portalRedirect(portal, target);
    if (row.signIn === 'status' || wantsStatusOnly(req)) answerLocation(res, row, 401, target, location);
    else
      answerLocation(
        res,
        row,
        target.method === 'GET' || target.method === 'HEAD' || target.method === 'OPTIONS' ? 302 : 303,
        target,
        location,
      );
  }
}

/** What the identity token says of how the identity was proven. */
function authenticationOf(identity: Identity): Authentication {
  return identity.session
    ? { kind: 'session', id: identity.session.id, data: identity.session.data }
    : { kind: 'basic' };
}

function sameUsername(header: string | string[], username: string): boolean {
  return typeof header === 'string' && header.toLowerCase() === username.toLowerCase();
}

function hasValue(header: string | string[] | undefined): boolean {
  return header !== undefined && header !== '';
}

function challengeOf(strategy: AuthnStrategy): Challenge | undefined {
  if (strategy.kind === 'header') return strategy.challenge;
  return strategy.kind === 'legacy' ? WWW_CHALLENGE : undefined;
}

/**
 * A Location answer as Authelia writes it where the proxy shows it: an HTML body linking to it
 * (`<a href="...">302 Found</a>`, the URL HTML-escaped), none when the original request was a HEAD.
 */
function answerLocation(
  res: ServerResponse,
  row: Flavour,
  status: 302 | 303 | 401,
  target: Target,
  location: string,
): void {
  if (!hasBody(row, status)) {
    answerEmpty(res, status, ['Location', location]);
    return;
  }
  const text = status === 302 ? 'Found' : status === 303 ? 'See Other' : 'Unauthorized';
  const body =
    target.method === 'HEAD' || res.req.method === 'HEAD'
      ? ''
      : `<a href="${htmlEscape(location)}">${status} ${text}</a>`;
  res.writeHead(status, [
    'Content-Type',
    'text/html; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'Cache-Control',
    'no-store',
    'Location',
    location,
  ]);
  res.end(body === '' ? undefined : body);
}

function htmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/**
 * XHR and non-HTML clients get 401 with a Location rather than a redirect they cannot follow, as Authelia decides:
 * X-Requested-With is XMLHttpRequest (any case), or no Accept entry is text/html (a leading wildcard type counts).
 */
function wantsStatusOnly(req: IncomingMessage): boolean {
  const requestedWith = req.headers['x-requested-with'];
  if (typeof requestedWith === 'string' && requestedWith.toLowerCase() === 'xmlhttprequest') return true;
  const accept = req.headers.accept;
  if (accept === undefined) return true;
  const entries = accept.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const semicolon = entry.indexOf(';');
    const type = (semicolon < 0 ? entry : entry.slice(0, semicolon)).trim();
    if (type === 'text/html' || (i === 0 && type === '*/*')) return false;
  }
  return true;
}

/**
 * `rd` and `rm` as Authelia writes them: set in the portal URL's own query (kept, as Authelia keeps it), the keys in
 * Go's sorted order, escaped as Go's `url.QueryEscape` escapes (`!'()*` too, a space as `+`).
 */
function portalRedirect(portal: URL, target: Target): string {
  if (portal.search === '') return `${portal.href}?rd=${queryEscape(target.raw)}&rm=${target.method}`;
  const pairs = [...portal.searchParams].filter(([key]) => key !== 'rd' && key !== 'rm');
  pairs.push(['rd', target.raw], ['rm', target.method]);
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // stable: a key's values keep their order, as in Go
  const base = portal.href.slice(0, portal.href.indexOf('?'));
  return `${base}?${pairs.map(([key, value]) => `${queryEscape(key)}=${queryEscape(value)}`).join('&')}`;
}

function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Identity headers for the upstream, after the empty answer's own (a pass is never shown to a client). Values are
 * sent as UTF-8 bytes (Node writes header strings as latin1, so the UTF-8 bytes are passed through as latin1 code
 * units); the users file refuses control characters in them.
 */
function allowedHeaders(user: UserDetails): HeaderList {
  // The provider hands out the same object until the users file changes, so the list is made once per user.
  let headers = allowedHeaderCache.get(user);
  if (headers === undefined) {
    headers = [
      ...EMPTY_ANSWER,
      'Remote-User',
      utf8Header(user.username),
      'Remote-Groups',
      utf8Header(user.groups.join(',')),
      'Remote-Name',
      utf8Header(user.displayName),
      'Remote-Email',
      utf8Header(user.emails[0] ?? ''),
    ];
    allowedHeaderCache.set(user, headers);
  }
  return headers;
}

const allowedHeaderCache = new WeakMap<UserDetails, HeaderList>();

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

/**
 * The headers of an answer without a body. `Content-Length: 0` (never chunked framing, never no length at all) is
 * the one framing after which nginx keeps the upstream connection without reading anything, and Go's client
 * (Traefik, Caddy) hands it back to its pool at once. Nothing to type, so no Content-Type. Never modified.
 */
const EMPTY_ANSWER: HeaderList = ['Content-Length', '0', 'Cache-Control', 'no-store'];

/** Whether the flavour's proxy may show this answer to a client, and so whether it has a body (Flavour.bodies). */
function hasBody(row: Flavour, status: number): boolean {
  return row.bodies === 'refusals' && status !== 200;
}

/** The pass, for every flavour: no body (never shown), the user's identity headers when someone is named. */
function answerAllowed(res: ServerResponse, user: UserDetails | undefined, extra?: HeaderList): void {
  const headers = user === undefined ? EMPTY_ANSWER : allowedHeaders(user);
  res.writeHead(200, extra === undefined ? headers : [...headers, ...extra]);
  res.end();
}

function answerEmpty(res: ServerResponse, status: number, headers?: HeaderList): void {
  res.writeHead(status, headers === undefined ? EMPTY_ANSWER : [...EMPTY_ANSWER, ...headers]);
  res.end();
}

/**
 * A refusal: `<status> <text>` as the body, as Authelia answers (its tests compare it), where the proxy relays it to
 * the client; no body where it never does (nginx's auth_request).
 */
function answer(res: ServerResponse, row: Flavour, status: number, headers?: HeaderList): void {
  if (!hasBody(row, status)) {
    answerEmpty(res, status, headers);
    return;
  }
  const body = `${status} ${STATUS_TEXT[status] ?? ''}`;
  const list = [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(body.length),
    'Cache-Control',
    'no-store',
  ];
  if (headers !== undefined) list.push(...headers);
  res.writeHead(status, list);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
