// The WebAuthn ceremonies and the user's keys (SPEC §5, §6, §8): enrolment (elevated sessions only), the second
// factor (level 1 → 2), passkey sign-in, and listing, renaming and deleting keys. Each method takes the request's
// portal context and either returns what the reply carries or throws a Refusal (an expected 4xx). Every change of
// level goes through SignIn.establish (a new session ID); no failure ever changes a level.
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { keyAddedMessage, keyRemovedMessage, type KeyChangeInput, type MessageContent } from '../notify/templates.js';
import type { Notifier } from '../notify/notifier.js';
import type { Regulator } from '../regulation/regulator.js';
import type { AuthLevel, CookieSettings, Session } from '../session/model.js';
import type { SessionService } from '../session/service.js';
import type { SignIn } from '../web/sign-in.js';
import { PortalError } from '../web/errors.js';
import type { NewWebAuthnCredential, Storage, WebAuthnCredential } from '../storage/storage.js';
import type { UserDetails, UserProvider } from '../users/provider.js';
import { authenticatorModel, UNKNOWN_AAGUID } from './aaguids.js';
import { putChallenge, takeChallenge, type Ceremony } from './challenges.js';
import type { RegistrationBody, SignInBody } from './input.js';
import { authenticationOptions, registrationOptions, relyingParty, type RelyingParty } from './options.js';
import { verifyAssertion, verifyRegistration, type Expected, type StoredKey } from './verify.js';
import { SecurityEvents } from '../observability/events.js';

export interface WebAuthnServiceDependencies {
  webauthn: Config['webauthn'];
  /** `identity_validation.elevation_lifetime`, seconds: how long a passed second factor allows renaming/deleting keys. */
  elevationLifetime: number;
  storage: Storage;
  sessions: SessionService;
  users: UserProvider;
  signIn: SignIn;
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
}

/**
 * The portal's one error (web/errors.ts) under the name this file uses; its log detail is the security event's
 * reason, where the message alone does not tell (a passkey failure says nothing on purpose).
 */
export class Refusal extends PortalError {
  get reason(): string | undefined {
    return this.logDetail;
  }
}

/** A key as the API shows it (GET /api/webauthn/credentials). */
export interface CredentialView {
  id: number;
  description: string;
  created_at: string;
  last_used_at: string | null;
  aaguid: string | null;
  /** The authenticator model when the AAGUID is a known one. */
  model: string | null;
  attestation_type: string;
  attachment: string;
  transports: string[];
  discoverable: boolean;
  user_verified: boolean;
  backup_eligible: boolean;
  backup_state: boolean;
  /** The sign counter went back once: the key may have been copied; it is refused until replaced. */
  clone_warning: boolean;
  /** Enrolled through FIDO U2F (answers under the portal's AppID). */
  legacy_u2f: boolean;
}

/** A sign-in's outcome: the new session (new ID) and where the browser goes next, when anywhere. */
export interface SignedIn {
  session: Session;
  level: AuthLevel;
  redirect: string | undefined;
}

const MESSAGES = {
  notSignedIn: 'Sign in first.',
  passwordNext: 'You signed in with a passkey: enter your password to complete the second step.',
  notElevated: 'Confirm your identity first: registering a security key needs the link we email you.',
  noRecentProof: 'Confirm your identity or use your security key again first.',
  noChallenge: 'No security key request is in progress, or it expired. Start again.',
  notVerified: 'The security key could not be verified.',
  unknownKey: 'This security key is not registered to your account.',
  cloned: 'This security key was flagged as possibly copied and is refused. Delete it and register it again.',
  noKeys: 'No security key is registered for your account.',
  nameTaken: 'You already have a security key with this name.',
  keyTaken: 'This security key is already registered.',
  aaguidRefused: 'This kind of security key is not allowed here.',
  keyNotFound: 'No such security key.',
  passkeyOff: 'Not found.',
  passkeyFailed: 'Sign-in with this passkey failed.',
} as const;

export class WebAuthnService {
  readonly #deps: WebAuthnServiceDependencies;
  readonly #now: () => number;
  readonly #events: SecurityEvents;

  constructor(deps: WebAuthnServiceDependencies) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#events = new SecurityEvents(deps.logger);
  }

  // --- Enrolment -------------------------------------------------------------------------------------------------

  async registrationOptions(req: PortalRequest) {
    const session = this.#elevated(req);
    const rp = relyingParty(req.cookie);
    const { storage } = this.#deps;
    const [userHandle, existing] = await Promise.all([
      storage.getOrCreateWebAuthnUserHandle(rp.id, session.data.username),
      storage.listWebAuthnCredentials(session.data.username, rp.id),
    ]);
    const options = await registrationOptions(this.#deps.webauthn, {
      rp,
      username: session.data.username,
      displayName: session.data.displayName,
      userHandle,
      existing,
    });
    await this.#holdChallenge(session, req.cookie, 'registration', options.challenge);
    return options;
  }

  async register(req: PortalRequest, body: RegistrationBody): Promise<CredentialView> {
    const session = this.#elevated(req);
    const username = session.data.username;
    const rp = relyingParty(req.cookie);
    // A taken name is answered before the challenge is used, so the page can ask for another name and resend.
    const existing = await this.#deps.storage.listWebAuthnCredentials(username, rp.id);
    if (existing.some((c) => c.description === body.description)) throw new Refusal(409, MESSAGES.nameTaken);

    const challenge = await this.#useChallenge(session, req.cookie, 'registration');
    const verdict = await verifyRegistration(body.response, this.#expected(rp, challenge));
    if (!verdict.verified) {
      this.#deps.logger.info({ username, reason: verdict.reason }, 'webauthn registration refused');
      throw new Refusal(400, MESSAGES.notVerified);
    }
    const key = verdict.value;
    if (await this.#deps.storage.findWebAuthnCredentialByKid(key.credentialId))
      throw new Refusal(409, MESSAGES.keyTaken);
    if (!this.#aaguidAllowed(key.aaguid)) {
      this.#deps.logger.info({ username, aaguid: key.aaguid }, 'webauthn registration refused by AAGUID filtering');
      throw new Refusal(403, MESSAGES.aaguidRefused);
    }
    const record: NewWebAuthnCredential = {
      createdAt: new Date(this.#now()),
      rpid: rp.id,
      username,
      description: body.description,
      kid: key.credentialId,
      aaguid: key.aaguid === UNKNOWN_AAGUID ? null : key.aaguid,
      attestationType: key.format,
      attachment: key.attachment,
      transports: key.transports,
      signCount: key.counter,
      discoverable: key.discoverable,
      present: true,
      verified: key.userVerified,
      backupEligible: key.backupEligible,
      backupState: key.backupState,
      publicKey: key.publicKey,
      attestation: key.attestationObject,
      legacyU2fAppid: null,
    };
    const saved = await this.#deps.storage.saveWebAuthnCredential(record);
    if (!saved.saved) throw new Refusal(409, saved.conflict === 'kid' ? MESSAGES.keyTaken : MESSAGES.nameTaken);
    this.#events.keyAdded({ remoteIp: req.ip, user: username, credentialId: saved.id, description: body.description });
    await this.#notify(session, req, body.description, keyAddedMessage);
    return credentialView({ ...record, id: saved.id, lastUsedAt: null, cloneWarning: false });
  }

  // --- Second factor ---------------------------------------------------------------------------------------------

  async authenticationOptions(req: PortalRequest) {
    const session = this.#secondFactorCandidate(req);
    const rp = relyingParty(req.cookie);
    const allowed = await this.#deps.storage.listWebAuthnCredentials(session.data.username, rp.id);
    if (allowed.length === 0) throw new Refusal(400, MESSAGES.noKeys);
    const options = await authenticationOptions(this.#deps.webauthn, { rp, allowed });
    await this.#holdChallenge(session, req.cookie, 'authentication', options.challenge);
    return options;
  }

  /** The second factor with a security key; every attempt by a signed-in user is a security event. */
  async authenticate(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    const user = req.session?.data.username;
    try {
      const signedIn = await this.#authenticate(req, body);
      this.#events.secondFactor({ remoteIp: req.ip, method: 'webauthn', user, outcome: 'success' });
      return signedIn;
    } catch (error) {
      const reason = error instanceof Refusal ? refusalReason(error) : undefined;
      if (reason !== undefined && !FLOW_ERRORS.has(reason))
        this.#events.secondFactor({ remoteIp: req.ip, method: 'webauthn', user, outcome: 'failure', reason });
      throw error;
    }
  }

  async #authenticate(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    const session = this.#secondFactorCandidate(req);
    const username = session.data.username;
    const rp = relyingParty(req.cookie);
    const challenge = await this.#useChallenge(session, req.cookie, 'authentication');
    const credential = await this.#deps.storage.findWebAuthnCredentialByKid(body.response.id);
    if (credential === undefined || credential.username !== username || credential.rpid !== rp.id) {
      this.#deps.logger.info({ username }, 'webauthn second factor with a key not registered to the user');
      throw new Refusal(401, MESSAGES.unknownKey);
    }
    await this.#verifyUse(credential, body.response, this.#expected(rp, challenge), MESSAGES.notVerified);
    const user = this.#activeUser(username);
    if (user === undefined) throw new Refusal(401, MESSAGES.notSignedIn);
    return this.#establish(req, user, 2, session.data.rememberMe, body);
  }

  // --- Passkey sign-in -------------------------------------------------------------------------------------------

  /** Options for a discoverable credential; an anonymous visitor gets a level-0 session to hold the challenge. */
  async passkeyOptions(
    req: PortalRequest,
  ): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; session: Session; created: boolean }> {
    this.#passkeyEnabled();
    const rp = relyingParty(req.cookie);
    const options = await authenticationOptions(this.#deps.webauthn, { rp, allowed: [] });
    const created = req.session === undefined;
    const session =
      req.session ??
      (await this.#deps.sessions.create(
        { username: '', displayName: '', emails: [], groups: [], level: 0, rememberMe: false },
        req.cookie,
      ));
    await this.#holdChallenge(session, req.cookie, 'passkey', options.challenge);
    return { options, session, created };
  }

  /** A passkey is a first factor: every attempt is a sign-in event (the user, once the key names one). */
  async passkeySignIn(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    try {
      const signedIn = await this.#passkeySignIn(req, body);
      this.#events.firstFactor({
        remoteIp: req.ip,
        method: 'passkey',
        user: signedIn.session.data.username,
        outcome: 'success',
      });
      return signedIn;
    } catch (error) {
      const reason = error instanceof Refusal ? refusalReason(error) : undefined;
      if (reason !== undefined && !FLOW_ERRORS.has(reason)) {
        this.#events.firstFactor({
          remoteIp: req.ip,
          method: 'passkey',
          user: (error as Refusal & { user?: string }).user,
          outcome: 'failure',
          reason,
        });
      }
      throw error;
    }
  }

  async #passkeySignIn(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    this.#passkeyEnabled();
    if (req.session === undefined) throw new Refusal(400, MESSAGES.noChallenge);
    const rp = relyingParty(req.cookie);
    const challenge = await this.#useChallenge(req.session, req.cookie, 'passkey');
    const credential = await this.#deps.storage.findWebAuthnCredentialByKid(body.response.id);
    const owner =
      credential && credential.rpid === rp.id ? await this.#passkeyOwner(rp, credential, body.response) : undefined;
    if (credential === undefined || owner === undefined) {
      throw new Refusal(401, MESSAGES.passkeyFailed, 'unknown_key');
    }
    const attempt = {
      username: owner,
      ip: req.ip,
      authType: 'PASSKEY',
      requestUri: body.targetURL ?? '',
      requestMethod: body.requestMethod ?? '',
    };
    const failed = async (refusal: Refusal, banned = false): Promise<Refusal> => {
      const banStarted = await this.#deps.regulator.record({ ...attempt, successful: false, banned });
      if (banStarted)
        this.#events.ban({
          remoteIp: req.ip,
          method: 'passkey',
          user: owner,
          banTimeSeconds: this.#deps.regulator.banTimeSeconds,
        });
      return Object.assign(refusal, { user: owner });
    };
    const user = this.#activeUser(owner);
    if (user === undefined) throw await failed(new Refusal(401, MESSAGES.passkeyFailed, 'user_disabled'));
    // A ban is silent (SPEC §8): the usual failure, and the attempt is logged without counting.
    if (await this.#deps.regulator.isBanned(owner, req.ip))
      throw await failed(new Refusal(401, MESSAGES.passkeyFailed, 'banned'), true);
    let userVerified: boolean;
    try {
      userVerified = await this.#verifyUse(
        credential,
        body.response,
        this.#expected(rp, challenge),
        MESSAGES.passkeyFailed,
      );
    } catch (error) {
      if (error instanceof Refusal) throw await failed(error);
      throw error;
    }
    await this.#deps.regulator.record({ ...attempt, successful: true });
    // SPEC §5: a passkey is one factor; with the experimental switch, one that verified the user counts as two.
    const level: AuthLevel = this.#deps.webauthn.experimental_enable_passkey_uv_two_factors && userVerified ? 2 : 1;
    return this.#establish(req, user, level, body.keepMeLoggedIn, body, 'passkey');
  }

  // --- The user's keys ---------------------------------------------------------------------------------------------

  async list(req: PortalRequest): Promise<CredentialView[]> {
    const session = this.#signedIn(req);
    const keys = await this.#deps.storage.listWebAuthnCredentials(session.data.username, relyingParty(req.cookie).id);
    return keys.map(credentialView);
  }

  async rename(req: PortalRequest, id: number | undefined, description: string): Promise<CredentialView> {
    const session = this.#recentlyProven(req);
    if (id === undefined) throw new Refusal(404, MESSAGES.keyNotFound);
    const key = await this.#ownKey(session, req.cookie, id);
    const result = await this.#deps.storage.renameWebAuthnCredential(session.data.username, key.id, description);
    if (result === 'duplicate') throw new Refusal(409, MESSAGES.nameTaken);
    if (result === 'not-found') throw new Refusal(404, MESSAGES.keyNotFound);
    return credentialView({ ...key, description });
  }

  async remove(req: PortalRequest, id: number | undefined): Promise<void> {
    const session = this.#recentlyProven(req);
    if (id === undefined) throw new Refusal(404, MESSAGES.keyNotFound);
    const key = await this.#ownKey(session, req.cookie, id);
    if (!(await this.#deps.storage.deleteWebAuthnCredential(session.data.username, key.id)))
      throw new Refusal(404, MESSAGES.keyNotFound);
    this.#events.keyRemoved({
      remoteIp: req.ip,
      user: session.data.username,
      credentialId: key.id,
      description: key.description,
    });
    await this.#notify(session, req, key.description, keyRemovedMessage);
  }

  // --- Pieces ------------------------------------------------------------------------------------------------------

  #signedIn(req: PortalRequest): Session {
    if (req.session === undefined || req.session.data.level < 1) throw new Refusal(401, MESSAGES.notSignedIn);
    return req.session;
  }

  /** SPEC §5: registering a key needs the emailed identity check (elevation), still running. */
  #elevated(req: PortalRequest): Session {
    const session = this.#signedIn(req);
    if (!((session.data.elevatedUntil ?? 0) > this.#now())) throw new Refusal(403, MESSAGES.notElevated);
    return session;
  }

  /** SPEC §6: renaming and deleting need elevation, or a second factor passed within elevation_lifetime. */
  #recentlyProven(req: PortalRequest): Session {
    const session = this.#signedIn(req);
    const now = this.#now();
    const elevated = (session.data.elevatedUntil ?? 0) > now;
    const secondFactorAt = session.data.secondFactorAt;
    const recentSecondFactor =
      session.data.level === 2 &&
      secondFactorAt !== undefined &&
      now - secondFactorAt <= this.#deps.elevationLifetime * 1000;
    if (!elevated && !recentSecondFactor) throw new Refusal(403, MESSAGES.noRecentProof);
    return session;
  }

  #passkeyEnabled(): void {
    if (!this.#deps.webauthn.enable_passkey_login) throw new Refusal(404, MESSAGES.passkeyOff);
  }

  /** The user as the users file has them now, unless removed or disabled. */
  #activeUser(username: string): UserDetails | undefined {
    const user = this.#deps.users.get(username);
    return user === undefined || user.disabled ? undefined : user;
  }

  #expected(rp: RelyingParty, challenge: string): Expected {
    return {
      challenge,
      origin: rp.origin,
      rpId: rp.id,
      requireUserVerification: this.#deps.webauthn.user_verification === 'required',
    };
  }

  #aaguidAllowed(aaguid: string): boolean {
    const { permitted_aaguids: permitted, prohibited_aaguids: prohibited } = this.#deps.webauthn.filtering;
    const has = (list: readonly string[]) => list.some((entry) => entry.toLowerCase() === aaguid);
    if (permitted.length > 0 && !has(permitted)) return false;
    return !has(prohibited);
  }

  async #holdChallenge(session: Session, cookie: CookieSettings, ceremony: Ceremony, challenge: string): Promise<void> {
    const now = this.#now();
    putChallenge(session, ceremony, challenge, now + this.#deps.webauthn.timeout * 1000, now);
    // In place only: a session ended meanwhile (logout elsewhere) is not written back.
    if (!(await this.#deps.sessions.save(session, cookie))) throw new Refusal(401, MESSAGES.notSignedIn);
    await this.#deps.sessions.markOnce(challenge, this.#deps.webauthn.timeout);
  }

  /** Takes the challenge out of the session and saves that before anything is verified: one attempt per challenge. */
  async #useChallenge(session: Session, cookie: CookieSettings, ceremony: Ceremony): Promise<string> {
    if (session.data.pending?.[ceremony] === undefined) throw new Refusal(400, MESSAGES.noChallenge);
    const challenge = takeChallenge(session, ceremony, this.#now());
    if (!(await this.#deps.sessions.save(session, cookie))) throw new Refusal(401, MESSAGES.notSignedIn);
    // Two requests racing with the same session both read the challenge; only one may spend it.
    if (challenge === undefined || !(await this.#deps.sessions.useOnce(challenge)))
      throw new Refusal(400, MESSAGES.noChallenge);
    return challenge;
  }

  /** The user whose stored handle the authenticator returned, when it is the credential's owner. */
  async #passkeyOwner(
    rp: RelyingParty,
    credential: WebAuthnCredential,
    response: AuthenticationResponseJSON,
  ): Promise<string | undefined> {
    const userHandle = response.response.userHandle;
    if (userHandle === undefined) return undefined;
    const username = await this.#deps.storage.findUsernameByUserHandle(rp.id, userHandle);
    return username !== undefined && username === credential.username ? username : undefined;
  }

  /**
   * Verifies one use of a stored key and records it (counter, last use); a counter that went back marks the key as
   * possibly cloned (SPEC §6). Resolves whether the user was verified; throws a 401 Refusal otherwise.
   */
  async #verifyUse(
    credential: WebAuthnCredential,
    response: AuthenticationResponseJSON,
    expected: Expected,
    failure: string,
  ): Promise<boolean> {
    const log = this.#deps.logger;
    const verdict = await verifyAssertion(response, expected, storedKey(credential));
    const now = new Date(this.#now());
    // Said only to whoever holds the key (a verified signature): a flagged key stays refused until replaced.
    if (verdict.verified && credential.cloneWarning) {
      log.warn(
        { username: credential.username, credential: credential.id },
        'webauthn key flagged as possibly cloned was refused',
      );
      throw new Refusal(401, MESSAGES.cloned);
    }
    if (!verdict.verified) {
      if (verdict.cloned) {
        await this.#deps.storage.updateWebAuthnCredentialUsage(credential.id, credential.signCount, now, true);
        log.warn(
          { username: credential.username, credential: credential.id, reason: verdict.reason },
          'webauthn key marked as possibly cloned',
        );
        throw new Refusal(401, MESSAGES.cloned);
      }
      log.info(
        { username: credential.username, credential: credential.id, reason: verdict.reason },
        'webauthn assertion refused',
      );
      throw new Refusal(401, failure, 'not_verified');
    }
    await this.#deps.storage.updateWebAuthnCredentialUsage(credential.id, verdict.value.newCounter, now, false);
    return verdict.value.userVerified;
  }

  /** A signed-in session whose first factor was the password: after a passkey the key is already spent (SPEC §5). */
  #secondFactorCandidate(req: PortalRequest): Session {
    const session = this.#signedIn(req);
    if (session.data.firstFactor === 'passkey') throw new Refusal(400, MESSAGES.passwordNext);
    return session;
  }

  async #establish(
    req: PortalRequest,
    user: UserDetails,
    level: AuthLevel,
    rememberMe: boolean,
    body: SignInBody,
    firstFactor: 'password' | 'passkey' = 'password',
  ): Promise<SignedIn> {
    const { signIn } = this.#deps;
    const session = await signIn.establish(req.session, user, level, rememberMe, req.cookie, firstFactor);
    const redirect = signIn.nextLocation(body.targetURL, body.requestMethod, user, level, req.cookie, req.ip);
    return { session, level, redirect };
  }

  async #ownKey(session: Session, cookie: CookieSettings, id: number): Promise<WebAuthnCredential> {
    const keys = await this.#deps.storage.listWebAuthnCredentials(session.data.username, relyingParty(cookie).id);
    const key = keys.find((c) => c.id === id);
    if (key === undefined) throw new Refusal(404, MESSAGES.keyNotFound);
    return key;
  }

  /** The key-change email; a delivery failure is logged, never undoes the change that was made. */
  async #notify(
    session: Session,
    req: PortalRequest,
    keyName: string,
    message: (input: KeyChangeInput) => MessageContent,
  ): Promise<void> {
    const to = session.data.emails[0];
    if (to === undefined) return;
    const content = message({
      username: session.data.username,
      displayName: session.data.displayName,
      keyName,
      ip: req.ip,
      at: new Date(this.#now()),
      settingsUrl: new URL('/settings', req.cookie.portalUrl).href,
    });
    try {
      await this.#deps.notifier.send({ to, toName: session.data.displayName, ...content });
    } catch (error) {
      this.#deps.logger.error(
        { err: error, username: session.data.username },
        'could not send the security key notification',
      );
    }
  }
}

/** Refusals that are steps of the flow (sign in first, wrong order, feature off), not attempts: no event. */
const FLOW_ERRORS = new Set(['not_signed_in', 'password_next', 'passkey_off']);

/** The event's reason: the refusal's own, else the name of its message (`unknownKey` → `unknown_key`). */
function refusalReason(refusal: Refusal): string {
  if (refusal.reason !== undefined) return refusal.reason;
  const name = Object.entries(MESSAGES).find(([, message]) => message === refusal.message)?.[0] ?? 'refused';
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function storedKey(credential: WebAuthnCredential): StoredKey {
  return {
    id: credential.kid,
    publicKey: credential.publicKey,
    counter: credential.signCount,
    legacyU2fAppid: credential.legacyU2fAppid,
  };
}

function credentialView(c: WebAuthnCredential): CredentialView {
  return {
    id: c.id,
    description: c.description,
    created_at: c.createdAt.toISOString(),
    last_used_at: c.lastUsedAt?.toISOString() ?? null,
    aaguid: c.aaguid,
    model: authenticatorModel(c.aaguid) ?? null,
    attestation_type: c.attestationType,
    attachment: c.attachment,
    transports: c.transports,
    discoverable: c.discoverable,
    user_verified: c.verified,
    backup_eligible: c.backupEligible,
    backup_state: c.backupState,
    clone_warning: c.cloneWarning,
    legacy_u2f: c.legacyU2fAppid !== null,
  };
}
