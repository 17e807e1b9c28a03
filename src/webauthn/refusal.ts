// The WebAuthn ceremonies' expected refusal (a 4xx with a short message). Kept in its own module so every ceremony,
// the service and the routes name the same class.

/** An expected refusal: the status and the short message of the KO reply. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** For the security event, where the message alone does not tell (a passkey failure says nothing on purpose). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}
