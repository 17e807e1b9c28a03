// The WebAuthn ceremonies and the user's keys behind one object, as the routes take them (SPEC §5, §6, §8). Each
// ceremony lives in its own module: registration.ts (enrolment, elevated sessions only), second-factor.ts (level
// 1 → 2), passkey.ts (passwordless sign-in), key-management.ts (list, rename, delete); what they share is in
// ceremony.ts. Each method takes the request's portal context and either returns what the reply carries or throws
// a PortalError (web/errors.ts: an expected 4xx).
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Session } from '../session/model.js';
import { CeremonySteps, type PortalRequest, type SignedIn, type WebAuthnServiceDependencies } from './ceremony.js';
import type { CredentialView } from './credential.js';
import type { RegistrationBody, SignInBody } from './input.js';
import { KeyManagement } from './key-management.js';
import { PasskeySignIn } from './passkey.js';
import { Registration } from './registration.js';
import { SecondFactor } from './second-factor.js';

export type { PortalRequest, SignedIn, WebAuthnServiceDependencies } from './ceremony.js';
export type { CredentialView } from './credential.js';

export class WebAuthnService {
  readonly #registration: Registration;
  readonly #secondFactor: SecondFactor;
  readonly #passkey: PasskeySignIn;
  readonly #keys: KeyManagement;

  constructor(deps: WebAuthnServiceDependencies) {
    const steps = new CeremonySteps(deps);
    this.#registration = new Registration(steps);
    this.#secondFactor = new SecondFactor(steps);
    this.#passkey = new PasskeySignIn(steps);
    this.#keys = new KeyManagement(steps);
  }

  registrationOptions(req: PortalRequest): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.#registration.options(req);
  }

  register(req: PortalRequest, body: RegistrationBody): Promise<CredentialView> {
    return this.#registration.register(req, body);
  }

  authenticationOptions(req: PortalRequest): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.#secondFactor.options(req);
  }

  /** The second factor with a security key; every attempt by a signed-in user is a security event. */
  authenticate(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    return this.#secondFactor.authenticate(req, body);
  }

  /** Options for a discoverable credential; an anonymous visitor gets a level-0 session to hold the challenge. */
  passkeyOptions(
    req: PortalRequest,
  ): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; session: Session; created: boolean }> {
    return this.#passkey.options(req);
  }

  /** A passkey is a first factor: every attempt is a sign-in event (the user, once the key names one). */
  passkeySignIn(req: PortalRequest, body: SignInBody): Promise<SignedIn> {
    return this.#passkey.signIn(req, body);
  }

  list(req: PortalRequest): Promise<CredentialView[]> {
    return this.#keys.list(req);
  }

  rename(req: PortalRequest, id: number | undefined, description: string): Promise<CredentialView> {
    return this.#keys.rename(req, id, description);
  }

  remove(req: PortalRequest, id: number | undefined): Promise<void> {
    return this.#keys.remove(req, id);
  }
}
