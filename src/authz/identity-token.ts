// The signed identity token of an authz pass (a JWT in the header the operator names), for upstream apps that do
// not want to trust a bare Remote-User header. Claims as OpenID Connect names them; `amr` values from RFC 8176.
// Signing costs far more than the rest of an authz answer, so a token is reused per (session, audience) until
// shortly before it expires, in a bounded map; the key comes from memory (identity-token-keys.ts), never storage.
import { SignJWT } from 'jose';
import type { CookieSettings } from '../config/cookies.js';
import type { Config } from '../config/schema.js';
import type { SessionData } from '../session/model.js';
import type { UserDetails } from '../users/provider.js';
import type { SigningKey } from './identity-token-keys.js';

/** What a token says about whom, and how they signed in. */
export interface IdentityClaims {
  iss: string;
  aud: string;
  sub: string;
  email?: string;
  name: string;
  groups: string[];
  amr: string[];
  auth_time: number;
  iat: number;
  exp: number;
}

/** How the identity of a pass was established: a session's record, or Basic credentials checked just now. */
export type Authentication =
  | { kind: 'session'; id: string; data: Pick<SessionData, 'level' | 'firstFactor' | 'createdAt' | 'secondFactorAt'> }
  | { kind: 'basic' };

/**
 * RFC 8176 methods, in the order they were used, never claiming one the session cannot prove:
 * - password (and Basic credentials): `pwd`;
 * - password then security key: `pwd`, `hwk`, `mfa`;
 * - passkey alone: `hwk`;
 * - passkey at level 2 (the password as second step, or a user-verified passkey counted as both factors; the
 *   session does not record which): `hwk`, `mfa`.
 */
export function amrOf(auth: Authentication, level: 1 | 2): string[] {
  if (auth.kind === 'basic') return ['pwd'];
  const passkey = auth.data.firstFactor === 'passkey';
  if (level === 1) return passkey ? ['hwk'] : ['pwd'];
  return passkey ? ['hwk', 'mfa'] : ['pwd', 'hwk', 'mfa'];
}

/**
 * When the user last authenticated, in seconds: each step of a sign-in makes a new session, so its creation is the
 * last step; a later second factor on the same session counts too. Basic credentials were checked now.
 */
export function authTimeOf(auth: Authentication, nowMs: number): number {
  if (auth.kind === 'basic') return Math.floor(nowMs / 1000);
  return Math.floor(Math.max(auth.data.createdAt, auth.data.secondFactorAt ?? 0) / 1000);
}

/** The issuer of a cookie domain's tokens: its portal URL, without a trailing slash. */
export function issuerOf(portalUrl: URL): string {
  return portalUrl.href.endsWith('/') ? portalUrl.href.slice(0, -1) : portalUrl.href;
}

export function identityClaims(
  user: UserDetails,
  auth: Authentication,
  level: 1 | 2,
  issuer: string,
  audience: string,
  nowMs: number,
  lifetimeSeconds: number,
): IdentityClaims {
  const iat = Math.floor(nowMs / 1000);
  const claims: IdentityClaims = {
    iss: issuer,
    aud: audience,
    sub: user.username,
    name: user.displayName,
    groups: [...user.groups],
    amr: amrOf(auth, level),
    auth_time: authTimeOf(auth, nowMs),
    iat,
    exp: iat + lifetimeSeconds,
  };
  if (user.emails[0] !== undefined) claims.email = user.emails[0];
  return claims;
}

/** What the tokens need to know of the configuration. */
export interface IdentityTokenSettings {
  /** Lower-case: Node writes it as given. */
  header: string;
  lifetimeSeconds: number;
  /** Cookie domains whose passes carry a token unless their rule says otherwise. */
  domains: ReadonlySet<string>;
  /** Per rule (0-based): true / false when the rule says, undefined when the domain decides. */
  rules: ReadonlyArray<boolean | undefined>;
  /** Cached tokens at most (per replica). */
  maxEntries?: number;
}

export function identityTokenSettings(config: Config): IdentityTokenSettings {
  return {
    header: config.identity_token.header,
    lifetimeSeconds: config.identity_token.lifetime,
    domains: new Set(config.session.cookies.filter((c) => c.identity_token).map((c) => c.domain)),
    rules: config.access_control.rules.map((rule) => rule.identity_token),
  };
}

/** Whether the configuration asks for tokens anywhere (else no keys are made and no JWKS is served). */
export function identityTokensWanted(settings: IdentityTokenSettings): boolean {
  return settings.domains.size > 0 || settings.rules.some((flag) => flag === true);
}

/** Whether a pass decided by `rule` (1-based; 0 = default policy) under `cookie` carries a token: the rule says, else the domain. */
export function tokenWanted(
  settings: Pick<IdentityTokenSettings, 'domains' | 'rules'>,
  cookie: CookieSettings,
  rule: number,
): boolean {
  const ruleFlag = rule > 0 ? settings.rules[rule - 1] : undefined;
  return ruleFlag ?? settings.domains.has(cookie.domain);
}

interface CachedToken {
  user: UserDetails;
  level: 1 | 2;
  authTime: number;
  token: string;
  /** Epoch ms after which a new token is signed. */
  renewAt: number;
}

export const DEFAULT_MAX_CACHED_TOKENS = 10_000;
/** A cached token is replaced this long before it expires (so an upstream never receives one about to lapse). */
export const RENEW_BEFORE_EXPIRY_MS = 15_000;

export class IdentityTokens {
  readonly header: string;
  readonly #settings: IdentityTokenSettings;
  readonly #key: (now: number) => SigningKey;
  readonly #now: () => number;
  readonly #max: number;
  /** Insertion order is age: the oldest entry goes first when full. */
  readonly #cache = new Map<string, CachedToken>();
  readonly #issuers = new WeakMap<CookieSettings, string>();

  constructor(settings: IdentityTokenSettings, key: (now: number) => SigningKey, now: () => number = Date.now) {
    this.#settings = settings;
    this.header = settings.header;
    this.#key = key;
    this.#now = now;
    this.#max = settings.maxEntries ?? DEFAULT_MAX_CACHED_TOKENS;
  }

  /** Whether a pass decided by `rule` (1-based; 0 = default policy) under `cookie` carries a token. */
  wanted(cookie: CookieSettings, rule: number): boolean {
    return tokenWanted(this.#settings, cookie, rule);
  }

  get size(): number {
    return this.#cache.size;
  }

  /**
   * The token for this identity and audience (the target's origin): the cached one while it is the same user
   * record, level and authentication time and not near expiry, else a new one. Throws when no key is loaded.
   */
  async token(
    user: UserDetails,
    auth: Authentication,
    level: 1 | 2,
    cookie: CookieSettings,
    audience: string,
  ): Promise<string> {
    const cached = this.cached(user, auth, level, audience);
    if (cached !== undefined) return cached;
    const now = this.#now();
    const cacheKey = cacheKeyOf(user, auth, audience);
    const authTime = authTimeOf(auth, now);
    const key = this.#key(now);
    const claims = identityClaims(
      user,
      auth,
      level,
      this.#issuer(cookie),
      audience,
      now,
      this.#settings.lifetimeSeconds,
    );
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.key);
    const renewAt = claims.exp * 1000 - Math.min(RENEW_BEFORE_EXPIRY_MS, (this.#settings.lifetimeSeconds * 1000) / 4);
    this.#cache.delete(cacheKey);
    if (this.#cache.size >= this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(cacheKey, { user, level, authTime, token, renewAt });
    return token;
  }

  /** The cached token `token` would answer with, when there is one (no promise: the authz path stays synchronous). */
  cached(user: UserDetails, auth: Authentication, level: 1 | 2, audience: string): string | undefined {
    const cached = this.#cache.get(cacheKeyOf(user, auth, audience));
    if (cached === undefined) return undefined;
    const now = this.#now();
    return now < cached.renewAt &&
      cached.user === user &&
      cached.level === level &&
      (auth.kind === 'basic' || cached.authTime === authTimeOf(auth, now))
      ? cached.token
      : undefined;
  }

  #issuer(cookie: CookieSettings): string {
    let issuer = this.#issuers.get(cookie);
    if (issuer === undefined) {
      issuer = issuerOf(cookie.portalUrl);
      this.#issuers.set(cookie, issuer);
    }
    return issuer;
  }
}

function cacheKeyOf(user: UserDetails, auth: Authentication, audience: string): string {
  return auth.kind === 'session' ? `s\u0000${auth.id}\u0000${audience}` : `b\u0000${user.username}\u0000${audience}`;
}
