// The WebAuthn credential record is declared once, as the storage port's `WebAuthnCredential` (storage sits below
// webauthn and may not import it). Every other shape of a key is either a subset of that record (`Pick`/`Omit`:
// `NewWebAuthnCredential`, the import plan's credential) or a different vocabulary with one mapping function,
// written here or next to its format, typed against the record:
//   - the API's view (snake_case, dates as text, no key material): `credentialView`, one way only;
//   - the verifier's input and output (the library's words: id, counter): `storedKey`, `newCredential`;
//   - Authelia's export file: `toExported` / `fromExported` in authelia-migration.ts;
//   - the database row (driver types): `toCredential` / the insert in storage/sql-storage.ts.
import type { NewWebAuthnCredential, WebAuthnCredential } from '../storage/storage.js';
import { authenticatorModel, UNKNOWN_AAGUID } from './aaguids.js';
import type { RegisteredKey, StoredKey } from './verify.js';

type Stored = WebAuthnCredential;

/** A key as the API shows it (GET /api/webauthn/credentials): the record's fields under snake_case names. */
export interface CredentialView {
  id: Stored['id'];
  description: Stored['description'];
  /** ISO 8601 */
  created_at: string;
  /** ISO 8601, or null when never used. */
  last_used_at: string | null;
  aaguid: Stored['aaguid'];
  /** The authenticator model when the AAGUID is a known one. */
  model: string | null;
  attestation_type: Stored['attestationType'];
  attachment: Stored['attachment'];
  transports: Stored['transports'];
  discoverable: Stored['discoverable'];
  user_verified: Stored['verified'];
  backup_eligible: Stored['backupEligible'];
  backup_state: Stored['backupState'];
  /** The sign counter went back once: the key may have been copied; it is refused until replaced. */
  clone_warning: Stored['cloneWarning'];
  /** Enrolled through FIDO U2F (answers under the portal's AppID). */
  legacy_u2f: boolean;
}

export function credentialView(c: Stored): CredentialView {
  return {
    id: c.id,
    description: c.description,
    created_at: c.createdAt.toISOString(),
    last_used_at: c.lastUsedAt?.toISOString() ?? null,
    aaguid: c.aaguid,
    model: authenticatorModel(c.aaguid) ?? null,
    attestation_type: c.attestationType,
    attachment: c.attachment,
    transports: c.transports,
    discoverable: c.discoverable,
    user_verified: c.verified,
    backup_eligible: c.backupEligible,
    backup_state: c.backupState,
    clone_warning: c.cloneWarning,
    legacy_u2f: c.legacyU2fAppid !== null,
  };
}

/** What an assertion is checked against. */
export function storedKey(c: Stored): StoredKey {
  return {
    id: c.kid,
    publicKey: c.publicKey,
    counter: c.signCount,
    legacyU2fAppid: c.legacyU2fAppid,
  };
}

/** A verified registration as it is stored: the key's facts, and whose it is, where, and under which name. */
export function newCredential(
  key: RegisteredKey,
  owner: Pick<Stored, 'createdAt' | 'rpid' | 'username' | 'description'>,
): NewWebAuthnCredential {
  return {
    createdAt: owner.createdAt,
    rpid: owner.rpid,
    username: owner.username,
    description: owner.description,
    kid: key.credentialId,
    aaguid: key.aaguid === UNKNOWN_AAGUID ? null : key.aaguid,
    attestationType: key.format,
    attachment: key.attachment,
    transports: key.transports,
    signCount: key.counter,
    discoverable: key.discoverable,
    present: true,
    verified: key.userVerified,
    backupEligible: key.backupEligible,
    backupState: key.backupState,
    publicKey: key.publicKey,
    attestation: key.attestationObject,
    // Only a key carried over from Authelia's U2F days has an AppID; a new registration never does.
    legacyU2fAppid: null,
  };
}
