// Passwordless sign-in with a passkey (SPEC §5, §8), when `enable_passkey_login` is on: an anonymous visitor gets
// a level-0 session to hold the challenge; the key's user handle names the user, who must be active and not
// banned. A passkey is one factor (two with the experimental switch and a verified user). Every attempt is a
// first-factor sign-in event, and counts for regulation once the key names a user.
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { AuthLevel, Session } from '../session/model.js';
import type { WebAuthnCredential } from '../storage/storage.js';
import type { CeremonySteps, PortalRequest, SignedIn } from './ceremony.js';
import type { SignInBody } from './input.js';
import { attemptFailureReason, MESSAGES } from './messages.js';
import { authenticationOptions, relyingParty, type RelyingParty } from './options.js';
import { PortalError } from '../web/errors.js';

/** A refusal after the key named its user, who the failure event then names. */
type AttributedRefusal = PortalError & { user?: string };

export class PasskeySignIn {
  readonly #steps: CeremonySteps;

  constructor(steps: CeremonySteps) {
    this.#steps = steps;
  }

  /** Options for a discoverable credential; an anonymous visitor gets a level-0 session to hold the challenge. */
  async options(
    req: PortalRequest,
  ): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; session: Session; created: boolean }> {
    this.#enabled();
    const { deps } = this.#steps;
    const rp = relyingParty(req.cookie);
    const options = await authenticationOptions(deps.webauthn, { rp, allowed: [] });
    const created = req.session === undefined;
    const session =
      req.session ??
      (await deps.sessions.create(
        { username: '', displayName: '', emails: [], groups: [], level: 0, rememberMe: false },
        req.cookie,
      ));
    await this.#steps.holdChallenge(session, req.cookie, 'passkey', options.challenge);
    return { options, session, created };
  }

  /** A passkey is a first factor: every attempt is a sign-in event (the user, once the key names one). */
  async signIn(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    const { events } = this.#steps;
    try {
      const signedIn = await this.#signIn(req, body);
      events.firstFactor({
        remoteIp: req.ip,
        method: 'passkey',
        user: signedIn.session.data.username,
        outcome: 'success',
      });
      return signedIn;
    } catch (error) {
      const reason = error instanceof PortalError ? attemptFailureReason(error) : undefined;
      if (reason !== undefined) {
        events.firstFactor({
          remoteIp: req.ip,
          method: 'passkey',
          user: (error as AttributedRefusal).user,
          outcome: 'failure',
          reason,
        });
      }
      throw error;
    }
  }

  async #signIn(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    const steps = this.#steps;
    const { regulator, storage, webauthn } = steps.deps;
    this.#enabled();
    if (req.session === undefined) throw new PortalError(400, MESSAGES.noChallenge);
    const rp = relyingParty(req.cookie);
    const challenge = await steps.useChallenge(req.session, req.cookie, 'passkey');
    const credential = await storage.findWebAuthnCredentialByKid(body.response.id);
    const owner =
      credential && credential.rpid === rp.id ? await this.#owner(rp, credential, body.response) : undefined;
    if (credential === undefined || owner === undefined) {
      throw new PortalError(401, MESSAGES.passkeyFailed, 'unknown_key');
    }
    const attempt = {
      username: owner,
      ip: req.ip,
      authType: 'PASSKEY',
      requestUri: body.targetURL ?? '',
      requestMethod: body.requestMethod ?? '',
    };
    const failed = async (refusal: PortalError, banned = false): Promise<AttributedRefusal> => {
      const banStarted = await regulator.record({ ...attempt, successful: false, banned });
      if (banStarted)
        steps.events.ban({
          remoteIp: req.ip,
          method: 'passkey',
          user: owner,
          banTimeSeconds: regulator.banTimeSeconds,
        });
      return Object.assign(refusal, { user: owner });
    };
    const user = steps.activeUser(owner);
    if (user === undefined) throw await failed(new PortalError(401, MESSAGES.passkeyFailed, 'user_disabled'));
    // A ban is silent (SPEC §8): the usual failure, and the attempt is logged without counting.
    if (await regulator.isBanned(owner, req.ip))
      throw await failed(new PortalError(401, MESSAGES.passkeyFailed, 'banned'), true);
    let userVerified: boolean;
    try {
      userVerified = await steps.verifyUse(
        credential,
        body.response,
        steps.expected(rp, challenge),
        MESSAGES.passkeyFailed,
      );
    } catch (error) {
      if (error instanceof PortalError) throw await failed(error);
      throw error;
    }
    await regulator.record({ ...attempt, successful: true });
    // SPEC §5: a passkey is one factor; with the experimental switch, one that verified the user counts as two.
    const level: AuthLevel = webauthn.experimental_enable_passkey_uv_two_factors && userVerified ? 2 : 1;
    return steps.establish(req, user, level, body.keepMeLoggedIn, body, 'passkey');
  }

  #enabled(): void {
    if (!this.#steps.deps.webauthn.enable_passkey_login) throw new PortalError(404, MESSAGES.passkeyOff);
  }

  /** The user whose stored handle the authenticator returned, when it is the credential's owner. */
  async #owner(
    rp: RelyingParty,
    credential: WebAuthnCredential,
    response: AuthenticationResponseJSON,
  ): Promise<string | undefined> {
    const userHandle = response.response.userHandle;
    if (userHandle === undefined) return undefined;
    const username = await this.#steps.deps.storage.findUsernameByUserHandle(rp.id, userHandle);
    return username !== undefined && username === credential.username ? username : undefined;
  }
}
