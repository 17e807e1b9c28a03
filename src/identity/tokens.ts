// Emailed identity verification (SPEC §6 `/api/identity/*`): a short-lived JWT, signed with
// `identity_validation.jwt_secret`, bound to one user and one action, whose ID is recorded in storage when issued
// and consumed there atomically when redeemed, so it works once across every replica.
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Storage } from '../storage/storage.js';

/** What a token may be redeemed for; a token for one action is refused for any other. */
const IDENTITY_ACTIONS = ['register_webauthn'] as const;
export type IdentityAction = (typeof IDENTITY_ACTIONS)[number];

export function isIdentityAction(value: unknown): value is IdentityAction {
  return typeof value === 'string' && (IDENTITY_ACTIONS as readonly string[]).includes(value);
}

export type RedeemResult = 'ok' | 'invalid' | 'expired' | 'used' | 'wrong_user';

/** Fixed claims: a JWT that some other system signed with a reused secret still fails here. */
const ISSUER = 'gatehouse';
const AUDIENCE = 'gatehouse:identity-verification';
const TYPE = 'JWT';
/** Far above a real token (~350 characters); anything longer is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 2_048;

export interface IdentityVerifierOptions {
  /** `identity_validation.jwt_secret`. */
  secret: string;
  /** `identity_validation.token_lifetime`. */
  lifetimeSeconds: number;
  now?: () => number;
}

export class IdentityVerifier {
  readonly #storage: Storage;
  readonly #key: Uint8Array;
  readonly #lifetimeSeconds: number;
  readonly #now: () => number;

  constructor(storage: Storage, options: IdentityVerifierOptions) {
    if (options.secret.length === 0) throw new Error('identity_validation.jwt_secret must not be empty');
    this.#storage = storage;
    this.#key = new TextEncoder().encode(options.secret);
    this.#lifetimeSeconds = options.lifetimeSeconds;
    this.#now = options.now ?? Date.now;
  }

  get lifetimeSeconds(): number {
    return this.#lifetimeSeconds;
  }

  async issue(p: {
    username: string;
    action: IdentityAction;
    ip: string;
  }): Promise<{ token: string; jti: string; expiresAt: Date }> {
    const jti = randomUUID();
    const issuedAt = Math.floor(this.#now() / 1000);
    const expiresAt = issuedAt + this.#lifetimeSeconds;
    const token = await new SignJWT({ action: p.action })
      .setProtectedHeader({ alg: 'HS256', typ: TYPE })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(p.username)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.#key);
    // Recorded before the link leaves: a token whose ID storage does not know can never be redeemed.
    await this.#storage.recordIdentityVerification({
      jti,
      issuedAt: new Date(issuedAt * 1000),
      issuedIp: p.ip,
      expiresAt: new Date(expiresAt * 1000),
      username: p.username,
      action: p.action,
    });
    return { token, jti, expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * Redeems a token once for `username` and `action`. The signature, algorithm, issuer, audience and expiry are
   * checked first, then the action and the user (a token shown to the wrong user is not spent), then the single
   * use in storage. Storage failures propagate.
   */
  async redeem(p: { token: string; username: string; action: string; ip: string }): Promise<RedeemResult> {
    const now = new Date(this.#now());
    const verified = await this.#verify(p, now);
    if (typeof verified === 'string') return verified;
    if (await this.#storage.consumeIdentityVerification(verified.jti, p.ip, now)) return 'ok';
    // Not consumed: already used, or (rarely) it expired between the two checks.
    return verified.exp * 1000 <= now.getTime() ? 'expired' : 'used';
  }

  /**
   * What `redeem` would answer now, without spending the token: the page behind the link says at once that it
   * belongs to someone else or was used, instead of after the user pressed its button.
   */
  async check(p: { token: string; username: string; action: string }): Promise<RedeemResult> {
    const now = new Date(this.#now());
    const verified = await this.#verify(p, now);
    if (typeof verified === 'string') return verified;
    return (await this.#storage.isIdentityVerificationPending(verified.jti, now)) ? 'ok' : 'used';
  }

  async #verify(
    p: { token: string; username: string; action: string },
    now: Date,
  ): Promise<RedeemResult | { jti: string; exp: number }> {
    if (typeof p.token !== 'string' || p.token.length === 0 || p.token.length > MAX_TOKEN_LENGTH) return 'invalid';
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(p.token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: TYPE,
        currentDate: now,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      }));
    } catch (error) {
      // Anything else a hostile string can provoke (bad encoding, wrong algorithm, bad signature) is just invalid.
      return error instanceof errors.JWTExpired ? 'expired' : 'invalid';
    }
    if (payload.action !== p.action || typeof payload.jti !== 'string') return 'invalid';
    if (payload.sub !== p.username) return 'wrong_user';
    return { jti: payload.jti, exp: payload.exp ?? 0 };
  }
}
