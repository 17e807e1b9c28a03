// Enrolling a security key (SPEC §5, §6): only in a session elevated by the emailed identity check, one challenge
// per attempt, AAGUID filtering, names unique per user; the user is told by email of every key added.
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { keyAddedMessage } from '../notify/templates.js';
import type { Session } from '../session/model.js';
import type { CeremonySteps, PortalRequest } from './ceremony.js';
import { credentialView, newCredential, type CredentialView } from './credential.js';
import type { RegistrationBody } from './input.js';
import { MESSAGES } from './messages.js';
import { registrationOptions, relyingParty } from './options.js';
import { PortalError } from '../web/errors.js';
import { verifyRegistration } from './verify.js';

export class Registration {
  readonly #steps: CeremonySteps;

  constructor(steps: CeremonySteps) {
    this.#steps = steps;
  }

  async options(req: PortalRequest): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const session = this.#elevated(req);
    const rp = relyingParty(req.cookie);
    const { storage, webauthn } = this.#steps.deps;
    const [userHandle, existing] = await Promise.all([
      storage.getOrCreateWebAuthnUserHandle(rp.id, session.data.username),
      storage.listWebAuthnCredentials(session.data.username, rp.id),
    ]);
    const options = await registrationOptions(webauthn, {
      rp,
      username: session.data.username,
      displayName: session.data.displayName,
      userHandle,
      existing,
    });
    await this.#steps.holdChallenge(session, req.cookie, 'registration', options.challenge);
    return options;
  }

  async register(req: PortalRequest, body: RegistrationBody): Promise<CredentialView> {
    const steps = this.#steps;
    const { storage, logger } = steps.deps;
    const session = this.#elevated(req);
    const username = session.data.username;
    const rp = relyingParty(req.cookie);
    // A taken name is answered before the challenge is used, so the page can ask for another name and resend.
    const existing = await storage.listWebAuthnCredentials(username, rp.id);
    if (existing.some((c) => c.description === body.description)) throw new PortalError(409, MESSAGES.nameTaken);

    const challenge = await steps.useChallenge(session, req.cookie, 'registration');
    const verdict = await verifyRegistration(body.response, steps.expected(rp, challenge));
    if (!verdict.verified) {
      logger.info({ username, reason: verdict.reason }, 'webauthn registration refused');
      throw new PortalError(400, MESSAGES.notVerified);
    }
    const key = verdict.value;
    if (await storage.findWebAuthnCredentialByKid(key.credentialId)) throw new PortalError(409, MESSAGES.keyTaken);
    if (!this.#aaguidAllowed(key.aaguid)) {
      logger.info({ username, aaguid: key.aaguid }, 'webauthn registration refused by AAGUID filtering');
      throw new PortalError(403, MESSAGES.aaguidRefused);
    }
    const record = newCredential(key, {
      createdAt: new Date(steps.now()),
      rpid: rp.id,
      username,
      description: body.description,
    });
    const saved = await storage.saveWebAuthnCredential(record);
    if (!saved.saved) throw new PortalError(409, saved.conflict === 'kid' ? MESSAGES.keyTaken : MESSAGES.nameTaken);
    steps.events.keyAdded({ remoteIp: req.ip, user: username, credentialId: saved.id, description: body.description });
    await steps.notify(session, req, body.description, keyAddedMessage);
    return credentialView({ ...record, id: saved.id, lastUsedAt: null, cloneWarning: false });
  }

  /** SPEC §5: registering a key needs the emailed identity check (elevation), still running. */
  #elevated(req: PortalRequest): Session {
    const session = this.#steps.signedIn(req);
    if (!((session.data.elevatedUntil ?? 0) > this.#steps.now())) throw new PortalError(403, MESSAGES.notElevated);
    return session;
  }

  #aaguidAllowed(aaguid: string): boolean {
    const { permitted_aaguids: permitted, prohibited_aaguids: prohibited } = this.#steps.deps.webauthn.filtering;
    const has = (list: readonly string[]) => list.some((entry) => entry.toLowerCase() === aaguid);
    if (permitted.length > 0 && !has(permitted)) return false;
    return !has(prohibited);
  }
}
