// The Storage port: everything Gatehouse keeps durably (PostgreSQL, or embedded PGlite with the same SQL).

export interface AuthenticationAttempt {
  time: Date;
  successful: boolean;
  /** The attempt was refused because the user or address was banned (recorded, never counted as a new failure). */
  banned: boolean;
  username: string;
  /** e.g. '1FA', 'BASIC', 'WEBAUTHN', 'PASSKEY'. */
  authType: string;
  remoteIp: string;
  requestUri: string;
  requestMethod: string;
}

export interface UserPreferences {
  username: string;
  /** e.g. 'webauthn'; kept for Authelia parity. */
  secondFactorMethod: string | null;
}

/**
 * A registered WebAuthn credential (security key or passkey): the one declaration of the credential record. The
 * port holds it because storage sits below every user of it (webauthn, cli, the pages) and may import none of them.
 * Other shapes of a key derive from it (`Pick`/`Omit`) or map to and from it in one function each; they are listed
 * at the top of src/webauthn/credential.ts.
 */
export interface WebAuthnCredential {
  id: number;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** The relying party (the portal's host) the credential is scoped to. */
  rpid: string;
  username: string;
  /** The user's name for the key; unique per user and relying party. */
  description: string;
  /** The credential ID, base64url; unique. */
  kid: string;
  aaguid: string | null;
  attestationType: string;
  /** 'platform', 'cross-platform' or '' when unknown. */
  attachment: string;
  transports: string[];
  signCount: number;
  cloneWarning: boolean;
  discoverable: boolean;
  present: boolean;
  verified: boolean;
  backupEligible: boolean;
  backupState: boolean;
  /** COSE public key. */
  publicKey: Uint8Array;
  /** The attestation object as received, when kept. */
  attestation: Uint8Array | null;
  /** The FIDO U2F AppID a migrated credential was registered under, else null. */
  legacyU2fAppid: string | null;
}

/** What a registration stores: the database assigns the ID, and a new key has no use or clone history yet. */
export type NewWebAuthnCredential = Omit<WebAuthnCredential, 'id' | 'lastUsedAt' | 'cloneWarning'>;

export type SaveCredentialResult = { saved: true; id: number } | { saved: false; conflict: 'kid' | 'description' };
export type RenameCredentialResult = 'renamed' | 'not-found' | 'duplicate';

/** An emailed identity verification (one-time token), recorded when issued. */
export interface IdentityVerification {
  /** The token's `jti`, a UUID. */
  jti: string;
  issuedAt: Date;
  issuedIp: string;
  expiresAt: Date;
  username: string;
  action: string;
}

/**
 * A key that signs the identity tokens of authz answers (authz/identity-token-keys.ts), shared by every replica.
 * The private key is sealed by the caller; storage never sees it in the clear.
 */
export interface IdentityTokenKeyRecord {
  kid: string;
  /** 'ES256' or 'EdDSA'. */
  algorithm: string;
  /** The public key as JWK JSON text. */
  publicJwk: string;
  /** The private key, sealed (authz/identity-token-keys.ts). */
  privateKey: Uint8Array;
  createdAt: Date;
  /** Signing starts at this instant (a successor is published before it signs). */
  activeFrom: Date;
  /** Signing stops at this instant; the public key stays published until its last token has expired. */
  notAfter: Date;
}

/** A user's current set of recovery codes (issue 11): never the codes, only what the pages and checks need. */
export interface RecoveryCodeSet {
  id: number;
  username: string;
  createdAt: Date;
  /** Random per set; each code is stored as SHA-256(salt ‖ normalised code). */
  salt: Uint8Array;
  /** How many codes of the set are still unused. */
  remaining: number;
}

/** What generating a set stores: the hashes only. */
export interface NewRecoveryCodeSet {
  username: string;
  createdAt: Date;
  salt: Uint8Array;
  hashes: Uint8Array[];
}

// Declared in observability (the layer below) so the outage log needs no storage import; re-exported for the drivers.

export interface Storage {
  readonly kind: 'postgres' | 'embedded';
  /** Applies pending migrations in order; returns the names it applied. */
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;

  appendAuthenticationLog(attempt: AuthenticationAttempt): Promise<void>;
  /**
   * Newest first; only attempts at or after `since`, at most `limit`; filtered by username and/or remote IP.
   * `excludeBanned` leaves out attempts refused during a ban (regulation counts only real attempts).
   */
  latestAuthenticationAttempts(query: {
    username?: string;
    remoteIp?: string;
    since: Date;
    limit: number;
    excludeBanned?: boolean;
  }): Promise<AuthenticationAttempt[]>;

  loadPreferences(username: string): Promise<UserPreferences | undefined>;
  savePreferences(preferences: UserPreferences): Promise<void>;

  saveWebAuthnCredential(credential: NewWebAuthnCredential): Promise<SaveCredentialResult>;
  /** The user's credentials, oldest first; only those of `rpid` when given. */
  listWebAuthnCredentials(username: string, rpid?: string): Promise<WebAuthnCredential[]>;
  findWebAuthnCredentialByKid(kid: string): Promise<WebAuthnCredential | undefined>;
  updateWebAuthnCredentialUsage(id: number, signCount: number, lastUsedAt: Date, cloneWarning: boolean): Promise<void>;
  /** Scoped to `username`: one user can never rename another's key. */
  renameWebAuthnCredential(username: string, id: number, description: string): Promise<RenameCredentialResult>;
  /** Scoped to `username`; resolves whether a credential was deleted. */
  deleteWebAuthnCredential(username: string, id: number): Promise<boolean>;
  /** The user's random WebAuthn user handle for `rpid` (base64url), created on first use; stable afterwards. */
  getOrCreateWebAuthnUserHandle(rpid: string, username: string): Promise<string>;
  findUsernameByUserHandle(rpid: string, userHandle: string): Promise<string | undefined>;

  recordIdentityVerification(verification: IdentityVerification): Promise<void>;
  /**
   * Marks the token used, atomically: true for exactly one caller, false when it is unknown, already consumed
   * or expired at `at` (default now).
   */
  consumeIdentityVerification(jti: string, ip: string, at?: Date): Promise<boolean>;
  /** Whether the token is known, not consumed and not expired at `at` (default now); reads only. */
  isIdentityVerificationPending(jti: string, at?: Date): Promise<boolean>;

  /**
   * Stores a new set of recovery codes for the user and deletes the previous one (and its codes) in the same
   * transaction, so no moment exists with both sets or with neither; resolves the new set's ID.
   */
  replaceRecoveryCodes(set: NewRecoveryCodeSet): Promise<number>;
  /** The user's current set, with its count of unused codes; undefined when they have none. */
  findRecoveryCodeSet(username: string): Promise<RecoveryCodeSet | undefined>;
  /**
   * Marks the code with this hash in this set used, atomically: true for exactly one caller; false when the set
   * was replaced meanwhile, the hash is not in it, or the code was already used.
   */
  useRecoveryCode(setId: number, codeHash: Uint8Array, usedAt: Date, ip: string): Promise<boolean>;

  /**
   * Deletes at most `batchSize` authentication log rows older than `olderThan`, oldest first; resolves how many.
   * Resolves undefined, deleting nothing, while another replica is pruning the same schema.
   */
  pruneAuthenticationLogs(olderThan: Date, batchSize: number): Promise<number | undefined>;

  /**
   * Under a lock every replica shares (one at a time, waiting): deletes the keys whose `notAfter` is before
   * `pruneBefore`, reads the others, hands them to `plan`, stores the key `plan` returns (if any), and resolves every
   * kept key, oldest first. The first replica that needs a key creates it; the others then read it.
   */
  ensureIdentityTokenKeys(
    pruneBefore: Date,
    plan: (keys: readonly IdentityTokenKeyRecord[]) => Promise<IdentityTokenKeyRecord | undefined>,
  ): Promise<IdentityTokenKeyRecord[]>;
}
