// The WebAuthn ceremonies' expected refusal: the portal's one error (web/errors.ts) under the name the ceremonies
// use. Its log detail is the security event's reason, where the message alone does not tell (a passkey failure
// says nothing on purpose); it is never sent.
import { PortalError } from '../web/errors.js';

export class Refusal extends PortalError {
  get reason(): string | undefined {
    return this.logDetail;
  }
}
