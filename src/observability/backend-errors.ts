// The two ways a backend fails a request: declared here, below the stores that throw them, so that the outage log
// (outages.ts) and the servers can tell them apart without importing the session or storage layers.

/** Raised when the session store cannot answer: callers must fail closed (5xx), never treat it as "anonymous". */
export class SessionStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('session store unavailable', { cause });
    this.name = 'SessionStoreUnavailableError';
  }
}

/** Raised when storage (PostgreSQL or the embedded database) cannot answer: callers fail closed (5xx). */
export class StorageUnavailableError extends Error {
  /** `detail` names the cause for an operator (e.g. "connection refused at db:5432"); the message carries it. */
  constructor(cause: unknown, detail?: string) {
    super(detail ? `storage unavailable: ${detail}` : 'storage unavailable', { cause });
    this.name = 'StorageUnavailableError';
  }
}

/**
 * Raised when the LDAP directory cannot answer (unreachable, timed out, TLS refused, the service bind refused): a
 * sign-in fails closed with 503, never "wrong password"; `detail` is safe to log (no password, no filter values).
 */
export class UserDirectoryUnavailableError extends Error {
  constructor(cause: unknown, detail: string) {
    super(`user directory unavailable: ${detail}`, { cause });
    this.name = 'UserDirectoryUnavailableError';
  }
}
