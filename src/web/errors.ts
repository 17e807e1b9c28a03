// The portal's one way to say no. A handler, a guard or a service throws a PortalError; the portal app's error
// handler (http/portal-app.ts) is the one place that turns it into a reply: `{"status":"KO","message":...}` on the
// JSON API, the message page on a page route. Anything that is not a PortalError is a bug or an outage there, never
// an expected refusal.

/** An expected refusal: the status, the short public message of the reply, and what only the log may know. */
export class PortalError extends Error {
  /** The reply's words: short, fixed text, never an echo of the request and never a stack or a class name. */
  readonly publicMessage: string;

  constructor(
    /** A 4xx (the client's request) or a 5xx (a dependency that failed in an expected way). */
    readonly status: number,
    publicMessage: string,
    /** For logs and security events only (a passkey failure's reason, say); never sent to the client. */
    readonly logDetail?: string,
  ) {
    super(publicMessage);
    this.name = 'PortalError';
    this.publicMessage = publicMessage;
  }
}
