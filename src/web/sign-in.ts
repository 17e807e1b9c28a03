// What signing in changes: a fresh session ID at every new authentication level (no fixation, SPEC §8), and where
// the browser may go next.
import type { Session, AuthLevel } from '../session/model.js';
import type { CookieSettings } from '../config/cookies.js';
import type { SessionService } from '../session/service.js';
import type { UserDetails } from '../users/provider.js';
import { policyLevel, type CompiledAccessControl } from '../authz/rules.js';
import { safeRedirectTarget } from './safe-redirect.js';
import { normaliseMethod } from '../authz/target.js';
import { describeUserAgent } from '../session/user-agent.js';

/** The device a sign-in comes from, remembered in the session for its owner's list of sessions. */
export interface SignInClient {
  userAgent: string | undefined;
  address: string;
}

export class SignIn {
  constructor(
    private readonly sessions: SessionService,
    private readonly access: CompiledAccessControl,
    private readonly cookies: readonly CookieSettings[],
  ) {}

  /** Replaces any current session by a new one (new ID) for `user` at `level`. */
  async establish(
    current: Session | undefined,
    user: UserDetails,
    level: AuthLevel,
    rememberMe: boolean,
    cookie: CookieSettings,
    firstFactor: 'password' | 'passkey' = 'password',
    /** False for a recovery code: level 2 without a key use, so `secondFactorAt` stays unset (docs/decisions.md). */
    keyUse = true,
    client?: SignInClient,
  ): Promise<Session> {
    if (current) await this.sessions.destroy(current);
    // Without a client given, a new level keeps what the session it replaces recorded.
    const device = client
      ? { ...describeUserAgent(client.userAgent), address: client.address }
      : { browser: current?.data.browser, os: current?.data.os, address: current?.data.address };
    return this.sessions.create(
      {
        username: user.username,
        displayName: user.displayName,
        emails: user.emails,
        groups: user.groups,
        level,
        rememberMe: rememberMe && cookie.rememberMe > 0,
        firstFactor,
        ...(level === 2 && keyUse ? { secondFactorAt: Date.now() } : {}),
        ...definedOnly(device),
      },
      cookie,
    );
  }

  /**
   * The level a successful password sign-in reaches: 2 when the same user already signed in with a passkey (the
   * password is then the second step, SPEC §5), else 1.
   */
  passwordLevel(current: Session | undefined, user: UserDetails): AuthLevel {
    const afterPasskey =
      current !== undefined &&
      current.data.level === 1 &&
      current.data.firstFactor === 'passkey' &&
      current.data.username === user.username;
    return afterPasskey ? 2 : 1;
  }

  /**
   * Where to send the browser once at `level`: the target when it is safe, under this portal's cookie domain and
   * reachable at this level; the default redirection URL when there is no target; else nowhere (the portal shows
   * the next step or the "signed in as" page).
   */
  nextLocation(
    target: unknown,
    method: unknown,
    user: UserDetails,
    level: AuthLevel,
    cookie: CookieSettings,
    ip: string,
  ): string | undefined {
    if (target === undefined || target === null || target === '') return cookie.defaultRedirectionUrl?.href;
    const needed = this.levelNeeded(target, method, user, cookie, ip);
    return needed !== undefined && needed.level <= level ? needed.url : undefined;
  }

  /** The level the target needs for this user, or undefined when it is unsafe, elsewhere or denied. */
  levelNeeded(
    target: unknown,
    method: unknown,
    user: UserDetails,
    cookie: CookieSettings,
    ip: string,
  ): { url: string; level: 0 | 1 | 2; maxAuthAge?: number } | undefined {
    const safe = safeRedirectTarget(target, this.cookies);
    if (safe === undefined || safe.cookie.domain !== cookie.domain) return undefined;
    const decision = this.access.evaluate({
      url: safe.url,
      method: normaliseMethod(method) ?? 'GET',
      ip,
      subject: { username: user.username, groups: user.groups },
    });
    const level = policyLevel(decision.policy);
    if (level === 'deny') return undefined;
    // Step-up: the rule's max_auth_age travels with the level, so the portal can ask for the key again.
    return decision.maxAuthAge === undefined
      ? { url: safe.url.href, level }
      : { url: safe.url.href, level, maxAuthAge: decision.maxAuthAge };
  }
}

/** Absent labels stay absent (undefined is not a value the session data's JSON keeps anyway). */
function definedOnly(labels: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
