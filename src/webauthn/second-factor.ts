// The second factor with a security key (SPEC §5): a session signed in with the password (level 1) asks for its
// user's keys and, on a verified assertion, becomes level 2 under a new session ID. Every attempt by a signed-in
// user is a security event.
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Session } from '../session/model.js';
import type { CeremonySteps, PortalRequest, SignedIn } from './ceremony.js';
import type { SignInBody } from './input.js';
import { attemptFailureReason, MESSAGES } from './messages.js';
import { authenticationOptions, relyingParty } from './options.js';
import { PortalError } from '../web/errors.js';

export class SecondFactor {
  readonly #steps: CeremonySteps;

  constructor(steps: CeremonySteps) {
    this.#steps = steps;
  }

  async options(req: PortalRequest): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const session = this.#candidate(req);
    const rp = relyingParty(req.cookie);
    const allowed = await this.#steps.deps.storage.listWebAuthnCredentials(session.data.username, rp.id);
    if (allowed.length === 0) throw new PortalError(400, MESSAGES.noKeys);
    const options = await authenticationOptions(this.#steps.deps.webauthn, { rp, allowed });
    await this.#steps.holdChallenge(session, req.cookie, 'authentication', options.challenge);
    return options;
  }

  async authenticate(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    const { events } = this.#steps;
    const user = req.session?.data.username;
    try {
      const signedIn = await this.#authenticate(req, body);
      events.secondFactor({ remoteIp: req.ip, method: 'webauthn', user, outcome: 'success' });
      return signedIn;
    } catch (error) {
      const reason = error instanceof PortalError ? attemptFailureReason(error) : undefined;
      if (reason !== undefined)
        events.secondFactor({ remoteIp: req.ip, method: 'webauthn', user, outcome: 'failure', reason });
      throw error;
    }
  }

  async #authenticate(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    const steps = this.#steps;
    const session = this.#candidate(req);
    const username = session.data.username;
    const rp = relyingParty(req.cookie);
    const challenge = await steps.useChallenge(session, req.cookie, 'authentication');
    const credential = await steps.deps.storage.findWebAuthnCredentialByKid(body.response.id);
    if (credential === undefined || credential.username !== username || credential.rpid !== rp.id) {
      steps.deps.logger.info({ username }, 'webauthn second factor with a key not registered to the user');
      throw new PortalError(401, MESSAGES.unknownKey);
    }
    await steps.verifyUse(credential, body.response, steps.expected(rp, challenge), MESSAGES.notVerified);
    const user = steps.activeUser(username);
    if (user === undefined) throw new PortalError(401, MESSAGES.notSignedIn);
    // A step-up (max_auth_age) after a passkey sign-in keeps how the session began.
    return steps.establish(req, user, 2, session.data.rememberMe, body, session.data.firstFactor);
  }

  /**
   * A signed-in session whose first factor was the password: after a passkey the key is already spent (SPEC §5),
   * until both factors are passed; then the key may be touched again (step-up: a rule's max_auth_age).
   */
  #candidate(req: PortalRequest): Session {
    const session = this.#steps.signedIn(req);
    if (session.data.firstFactor === 'passkey' && session.data.level < 2)
      throw new PortalError(400, MESSAGES.passwordNext);
    return session;
  }
}
