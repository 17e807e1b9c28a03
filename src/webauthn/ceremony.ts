// What the WebAuthn ceremonies share (SPEC §5, §6): their dependencies, the request as the portal hands it over,
// the challenge kept in the session, the check of one use of a stored key, the one way a ceremony raises a
// session's level (SignIn.establish: a new session ID; no failure ever changes a level), and the security emails
// (key changes here, recovery codes in recovery.ts).
// Each ceremony (registration.ts, second-factor.ts, passkey.ts, key-management.ts) holds one CeremonySteps.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { KeyChangeInput, MessageContent, SecurityEmailInput } from '../notify/templates.js';
import type { Notifier } from '../notify/notifier.js';
import { SecurityEvents } from '../observability/events.js';
import type { Regulator } from '../regulation/regulator.js';
import type { AuthLevel, Session } from '../session/model.js';
import type { CookieSettings } from '../config/cookies.js';
import type { SessionService } from '../session/service.js';
import type { Storage, WebAuthnCredential } from '../storage/storage.js';
import type { UserDetails, UserProvider } from '../users/provider.js';
import { putChallenge, takeChallenge, type Ceremony } from './challenges.js';
import { storedKey } from './credential.js';
import type { SignInBody } from './input.js';
import { MESSAGES } from './messages.js';
import type { RelyingParty } from './options.js';
import { PortalError } from '../web/errors.js';
import { portalLink } from '../web/portal-paths.js';
import type { SignIn } from '../web/sign-in.js';
import { verifyAssertion, type Expected } from './verify.js';

/** What a ceremony needs of the sign-in (web/sign-in.ts): a new session at the level reached, and where to go next. */
export type SignInSteps = Pick<SignIn, 'establish' | 'nextLocation'>;

export interface WebAuthnServiceDependencies {
  webauthn: Config['webauthn'];
  /** `identity_validation.elevation_lifetime`, seconds: how long a passed second factor allows renaming/deleting keys. */
  elevationLifetime: number;
  storage: Storage;
  sessions: SessionService;
  users: UserProvider;
  signIn: SignInSteps;
  regulator: Regulator;
  notifier: Pick<Notifier, 'send'>;
  logger: Logger;
  now?: () => number;
}

/** The request as the portal sees it. */
export interface PortalRequest {
  cookie: CookieSettings;
  session: Session | undefined;
  ip: string;
  /** The User-Agent header, for the user's list of sessions. */
  userAgent?: string;
}

/** A sign-in's outcome: the new session (new ID) and where the browser goes next, when anywhere. */
export interface SignedIn {
  session: Session;
  level: AuthLevel;
  redirect: string | undefined;
}

export class CeremonySteps {
  readonly deps: WebAuthnServiceDependencies;
  readonly now: () => number;
  readonly events: SecurityEvents;

  constructor(deps: WebAuthnServiceDependencies) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.events = new SecurityEvents(deps.logger);
  }

  signedIn(req: PortalRequest): Session {
    if (req.session === undefined || req.session.data.level < 1) throw new PortalError(401, MESSAGES.notSignedIn);
    return req.session;
  }

  /** The user as the users file has them now, unless removed or disabled. */
  activeUser(username: string): UserDetails | undefined {
    const user = this.deps.users.get(username);
    return user === undefined || user.disabled ? undefined : user;
  }

  expected(rp: RelyingParty, challenge: string): Expected {
    return {
      challenge,
      origin: rp.origin,
      rpId: rp.id,
      requireUserVerification: this.deps.webauthn.user_verification === 'required',
    };
  }

  async holdChallenge(session: Session, cookie: CookieSettings, ceremony: Ceremony, challenge: string): Promise<void> {
    const now = this.now();
    putChallenge(session, ceremony, challenge, now + this.deps.webauthn.timeout * 1000, now);
    // In place only: a session ended meanwhile (logout elsewhere) is not written back.
    if (!(await this.deps.sessions.save(session, cookie))) throw new PortalError(401, MESSAGES.notSignedIn);
    await this.deps.sessions.markOnce(challenge, this.deps.webauthn.timeout);
  }

  /** Takes the challenge out of the session and saves that before anything is verified: one attempt per challenge. */
  async useChallenge(session: Session, cookie: CookieSettings, ceremony: Ceremony): Promise<string> {
    if (session.data.pending?.[ceremony] === undefined) throw new PortalError(400, MESSAGES.noChallenge);
    const challenge = takeChallenge(session, ceremony, this.now());
    if (!(await this.deps.sessions.save(session, cookie))) throw new PortalError(401, MESSAGES.notSignedIn);
    // Two requests racing with the same session both read the challenge; only one may spend it.
    if (challenge === undefined || !(await this.deps.sessions.useOnce(challenge)))
      throw new PortalError(400, MESSAGES.noChallenge);
    return challenge;
  }

  /**
   * Verifies one use of a stored key and records it (counter, last use); a counter that went back marks the key as
   * possibly cloned (SPEC §6). Resolves whether the user was verified; throws a 401 PortalError otherwise.
   */
  async verifyUse(
    credential: WebAuthnCredential,
    response: AuthenticationResponseJSON,
    expected: Expected,
    failure: string,
  ): Promise<boolean> {
    const log = this.deps.logger;
    const verdict = await verifyAssertion(response, expected, storedKey(credential));
    const now = new Date(this.now());
    // Said only to whoever holds the key (a verified signature): a flagged key stays refused until replaced.
    if (verdict.verified && credential.cloneWarning) {
      log.warn(
        { username: credential.username, credential: credential.id },
        'webauthn key flagged as possibly cloned was refused',
      );
      throw new PortalError(401, MESSAGES.cloned);
    }
    if (!verdict.verified) {
      if (verdict.cloned) {
        await this.deps.storage.updateWebAuthnCredentialUsage(credential.id, credential.signCount, now, true);
        log.warn(
          { username: credential.username, credential: credential.id, reason: verdict.reason },
          'webauthn key marked as possibly cloned',
        );
        throw new PortalError(401, MESSAGES.cloned);
      }
      log.info(
        { username: credential.username, credential: credential.id, reason: verdict.reason },
        'webauthn assertion refused',
      );
      throw new PortalError(401, failure, 'not_verified');
    }
    await this.deps.storage.updateWebAuthnCredentialUsage(credential.id, verdict.value.newCounter, now, false);
    return verdict.value.userVerified;
  }

  async establish(
    req: PortalRequest,
    user: UserDetails,
    level: AuthLevel,
    rememberMe: boolean,
    body: SignInBody,
    firstFactor: 'password' | 'passkey' = 'password',
  ): Promise<SignedIn> {
    const { signIn } = this.deps;
    const client = { userAgent: req.userAgent, address: req.ip };
    const session = await signIn.establish(req.session, user, level, rememberMe, req.cookie, firstFactor, true, client);
    const redirect = signIn.nextLocation(body.targetURL, body.requestMethod, user, level, req.cookie, req.ip);
    return { session, level, redirect };
  }

  /** The key-change email (a key added or removed). */
  notify(
    session: Session,
    req: PortalRequest,
    keyName: string,
    message: (input: KeyChangeInput) => MessageContent,
  ): Promise<void> {
    return this.securityEmail(session, req, 'security key', (input) => message({ ...input, keyName }));
  }

  /**
   * A security email to the session's user with the fields every one carries; `about` names it in the log. The
   * settings link keeps a path the portal URL has (served under a prefix). A delivery failure is logged, never
   * undoes what was done.
   */
  async securityEmail(
    session: Session,
    req: PortalRequest,
    about: string,
    message: (input: SecurityEmailInput) => MessageContent,
  ): Promise<void> {
    const to = session.data.emails[0];
    if (to === undefined) return;
    const content = message({
      username: session.data.username,
      displayName: session.data.displayName,
      ip: req.ip,
      at: new Date(this.now()),
      settingsUrl: portalLink(req.cookie.portalUrl, 'settings'),
    });
    try {
      await this.deps.notifier.send({ to, toName: session.data.displayName, ...content });
    } catch (error) {
      this.deps.logger.error(
        { err: error, username: session.data.username },
        `could not send the ${about} notification`,
      );
    }
  }
}
