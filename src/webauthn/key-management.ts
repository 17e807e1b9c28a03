// The user's own keys (SPEC §6): listing needs a signed-in session; renaming and deleting need a recent proof of
// identity, and reach only the user's keys on this portal. The user is told by email of every key removed.
import { keyRemovedMessage } from '../notify/templates.js';
import type { Session } from '../session/model.js';
import type { CookieSettings } from '../config/cookies.js';
import type { WebAuthnCredential } from '../storage/storage.js';
import type { CeremonySteps, PortalRequest } from './ceremony.js';
import { credentialView, type CredentialView } from './credential.js';
import { MESSAGES } from './messages.js';
import { relyingParty } from './options.js';
import { PortalError } from '../web/errors.js';

export class KeyManagement {
  readonly #steps: CeremonySteps;

  constructor(steps: CeremonySteps) {
    this.#steps = steps;
  }

  async list(req: PortalRequest): Promise<CredentialView[]> {
    const session = this.#steps.signedIn(req);
    const keys = await this.#steps.deps.storage.listWebAuthnCredentials(
      session.data.username,
      relyingParty(req.cookie).id,
    );
    return keys.map(credentialView);
  }

  async rename(req: PortalRequest, id: number | undefined, description: string): Promise<CredentialView> {
    const session = this.#recentlyProven(req);
    if (id === undefined) throw new PortalError(404, MESSAGES.keyNotFound);
    const key = await this.#ownKey(session, req.cookie, id);
    const result = await this.#steps.deps.storage.renameWebAuthnCredential(session.data.username, key.id, description);
    if (result === 'duplicate') throw new PortalError(409, MESSAGES.nameTaken);
    if (result === 'not-found') throw new PortalError(404, MESSAGES.keyNotFound);
    return credentialView({ ...key, description });
  }

  async remove(req: PortalRequest, id: number | undefined): Promise<void> {
    const steps = this.#steps;
    const session = this.#recentlyProven(req);
    if (id === undefined) throw new PortalError(404, MESSAGES.keyNotFound);
    const key = await this.#ownKey(session, req.cookie, id);
    if (!(await steps.deps.storage.deleteWebAuthnCredential(session.data.username, key.id)))
      throw new PortalError(404, MESSAGES.keyNotFound);
    steps.events.keyRemoved({
      remoteIp: req.ip,
      user: session.data.username,
      credentialId: key.id,
      description: key.description,
    });
    await steps.notify(session, req, key.description, keyRemovedMessage);
  }

  /** SPEC §6: renaming and deleting need elevation, or a second factor passed within elevation_lifetime. */
  #recentlyProven(req: PortalRequest): Session {
    const session = this.#steps.signedIn(req);
    const now = this.#steps.now();
    const elevated = (session.data.elevatedUntil ?? 0) > now;
    const secondFactorAt = session.data.secondFactorAt;
    const recentSecondFactor =
      session.data.level === 2 &&
      secondFactorAt !== undefined &&
      now - secondFactorAt <= this.#steps.deps.elevationLifetime * 1000;
    if (!elevated && !recentSecondFactor) throw new PortalError(403, MESSAGES.noRecentProof);
    return session;
  }

  async #ownKey(session: Session, cookie: CookieSettings, id: number): Promise<WebAuthnCredential> {
    const keys = await this.#steps.deps.storage.listWebAuthnCredentials(session.data.username, relyingParty(cookie).id);
    const key = keys.find((c) => c.id === id);
    if (key === undefined) throw new PortalError(404, MESSAGES.keyNotFound);
    return key;
  }
}
