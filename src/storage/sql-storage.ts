// The one Storage implementation: parameterised SQL over a SqlDriver, identical for PostgreSQL and PGlite.
// Rows are converted here so both drivers' type quirks (bigint as string or number, bytea as Buffer or
// Uint8Array) end in the same plain values.
import { randomBytes } from 'node:crypto';
import { applyMigrations, loadMigrations } from './migrate.js';
import { sqlState, UNIQUE_VIOLATION, type SqlDriver } from './sql-driver.js';
import type {
  AuthenticationAttempt,
  IdentityTokenKeyRecord,
  IdentityVerification,
  NewRecoveryCodeSet,
  NewWebAuthnCredential,
  RecoveryCodeSet,
  RenameCredentialResult,
  SaveCredentialResult,
  Storage,
  UserPreferences,
  WebAuthnCredential,
} from './storage.js';

interface AttemptRow {
  time: Date;
  successful: boolean;
  banned: boolean;
  username: string;
  auth_type: string;
  remote_ip: string;
  request_uri: string;
  request_method: string;
}

/** A `webauthn_credentials` row as either driver returns it; toCredential maps it to the one credential record. */
interface CredentialRow {
  id: string | number;
  created_at: Date;
  last_used_at: Date | null;
  rpid: string;
  username: string;
  description: string;
  kid: string;
  aaguid: string | null;
  attestation_type: string;
  attachment: string;
  transports: string;
  sign_count: string | number;
  clone_warning: boolean;
  discoverable: boolean;
  present: boolean;
  verified: boolean;
  backup_eligible: boolean;
  backup_state: boolean;
  public_key: Uint8Array;
  attestation: Uint8Array | null;
  legacy_u2f_appid: string | null;
}

const CREDENTIAL_COLUMNS =
  'id, created_at, last_used_at, rpid, username, description, kid, aaguid, attestation_type, attachment, transports, ' +
  'sign_count, clone_warning, discoverable, present, verified, backup_eligible, backup_state, public_key, attestation, ' +
  'legacy_u2f_appid';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 256 random bits: a user handle must not be guessable nor reveal the username (WebAuthn §14.6.1). */
const USER_HANDLE_BYTES = 32;

const toPlainBytes = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

function toAttempt(row: AttemptRow): AuthenticationAttempt {
  return {
    time: row.time,
    successful: row.successful,
    banned: row.banned,
    username: row.username,
    authType: row.auth_type,
    remoteIp: row.remote_ip,
    requestUri: row.request_uri,
    requestMethod: row.request_method,
  };
}

function toCredential(row: CredentialRow): WebAuthnCredential {
  return {
    id: Number(row.id),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    rpid: row.rpid,
    username: row.username,
    description: row.description,
    kid: row.kid,
    aaguid: row.aaguid,
    attestationType: row.attestation_type,
    attachment: row.attachment,
    transports: row.transports.split(',').filter((transport) => transport !== ''),
    signCount: Number(row.sign_count),
    cloneWarning: row.clone_warning,
    discoverable: row.discoverable,
    present: row.present,
    verified: row.verified,
    backupEligible: row.backup_eligible,
    backupState: row.backup_state,
    publicKey: toPlainBytes(row.public_key),
    attestation: row.attestation === null ? null : toPlainBytes(row.attestation),
    legacyU2fAppid: row.legacy_u2f_appid,
  };
}

export class SqlStorage implements Storage {
  readonly kind: Storage['kind'];

  constructor(private readonly driver: SqlDriver) {
    this.kind = driver.kind;
  }

  async migrate(): Promise<string[]> {
    return applyMigrations(this.driver, await loadMigrations());
  }

  async ping(): Promise<void> {
    await this.driver.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  async appendAuthenticationLog(attempt: AuthenticationAttempt): Promise<void> {
    await this.driver.query(
      `INSERT INTO authentication_logs (time, successful, banned, username, auth_type, remote_ip, request_uri, request_method)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        attempt.time,
        attempt.successful,
        attempt.banned,
        attempt.username,
        attempt.authType,
        attempt.remoteIp,
        attempt.requestUri,
        attempt.requestMethod,
      ],
    );
  }

  async latestAuthenticationAttempts(query: {
    username?: string;
    remoteIp?: string;
    since: Date;
    limit: number;
    excludeBanned?: boolean;
  }): Promise<AuthenticationAttempt[]> {
    const limit = Math.floor(query.limit);
    if (!(limit > 0)) return [];
    const params: unknown[] = [query.since];
    // Only these fixed fragments are ever joined; every value is a parameter. Separate conditions (rather than
    // "$n IS NULL OR ...") keep the (username, time) and (remote_ip, time) indexes usable.
    const conditions = ['time >= $1'];
    if (query.username !== undefined) conditions.push(`username = $${params.push(query.username)}`);
    if (query.remoteIp !== undefined) conditions.push(`remote_ip = $${params.push(query.remoteIp)}`);
    if (query.excludeBanned) conditions.push('NOT banned');
    const rows = await this.driver.query<AttemptRow>(
      `SELECT time, successful, banned, username, auth_type, remote_ip, request_uri, request_method
       FROM authentication_logs WHERE ${conditions.join(' AND ')}
       ORDER BY time DESC, id DESC LIMIT $${params.push(limit)}`,
      params,
    );
    return rows.map(toAttempt);
  }

  async loadPreferences(username: string): Promise<UserPreferences | undefined> {
    const [row] = await this.driver.query<{ username: string; second_factor_method: string | null }>(
      'SELECT username, second_factor_method FROM user_preferences WHERE username = $1',
      [username],
    );
    return row && { username: row.username, secondFactorMethod: row.second_factor_method };
  }

  async savePreferences(preferences: UserPreferences): Promise<void> {
    await this.driver.query(
      `INSERT INTO user_preferences (username, second_factor_method) VALUES ($1, $2)
       ON CONFLICT (username) DO UPDATE SET second_factor_method = EXCLUDED.second_factor_method`,
      [preferences.username, preferences.secondFactorMethod],
    );
  }

  async saveWebAuthnCredential(credential: NewWebAuthnCredential): Promise<SaveCredentialResult> {
    const c = credential;
    const [inserted] = await this.driver.query<{ id: string | number }>(
      `INSERT INTO webauthn_credentials (created_at, rpid, username, description, kid, aaguid, attestation_type, attachment,
         transports, sign_count, discoverable, present, verified, backup_eligible, backup_state, public_key, attestation,
         legacy_u2f_appid)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT DO NOTHING RETURNING id`,
      [
        c.createdAt,
        c.rpid,
        c.username,
        c.description,
        c.kid,
        c.aaguid,
        c.attestationType,
        c.attachment,
        c.transports.join(','),
        c.signCount,
        c.discoverable,
        c.present,
        c.verified,
        c.backupEligible,
        c.backupState,
        c.publicKey,
        c.attestation,
        c.legacyU2fAppid,
      ],
    );
    if (inserted) return { saved: true, id: Number(inserted.id) };
    const sameKid = await this.driver.query('SELECT 1 FROM webauthn_credentials WHERE kid = $1', [c.kid]);
    return { saved: false, conflict: sameKid.length > 0 ? 'kid' : 'description' };
  }

  async listWebAuthnCredentials(username: string, rpid?: string): Promise<WebAuthnCredential[]> {
    const rows = await this.driver.query<CredentialRow>(
      `SELECT ${CREDENTIAL_COLUMNS} FROM webauthn_credentials
       WHERE username = $1 AND ($2::text IS NULL OR rpid = $2) ORDER BY created_at, id`,
      [username, rpid ?? null],
    );
    return rows.map(toCredential);
  }

  /** Every user's credentials, by user then age; for `gatehouse` maintenance commands (export), not on the port. */
  async listAllWebAuthnCredentials(): Promise<WebAuthnCredential[]> {
    const rows = await this.driver.query<CredentialRow>(
      `SELECT ${CREDENTIAL_COLUMNS} FROM webauthn_credentials ORDER BY username, created_at, id`,
    );
    return rows.map(toCredential);
  }

  /** An imported credential's history, which a new registration does not have; for the import command, not on the port. */
  async restoreWebAuthnCredentialHistory(id: number, lastUsedAt: Date | null, cloneWarning: boolean): Promise<void> {
    await this.driver.query('UPDATE webauthn_credentials SET last_used_at = $2, clone_warning = $3 WHERE id = $1', [
      id,
      lastUsedAt,
      cloneWarning,
    ]);
  }

  async findWebAuthnCredentialByKid(kid: string): Promise<WebAuthnCredential | undefined> {
    const [row] = await this.driver.query<CredentialRow>(
      `SELECT ${CREDENTIAL_COLUMNS} FROM webauthn_credentials WHERE kid = $1`,
      [kid],
    );
    return row && toCredential(row);
  }

  async updateWebAuthnCredentialUsage(
    id: number,
    signCount: number,
    lastUsedAt: Date,
    cloneWarning: boolean,
  ): Promise<void> {
    await this.driver.query(
      'UPDATE webauthn_credentials SET sign_count = $2, last_used_at = $3, clone_warning = $4 WHERE id = $1',
      [id, signCount, lastUsedAt, cloneWarning],
    );
  }

  async renameWebAuthnCredential(username: string, id: number, description: string): Promise<RenameCredentialResult> {
    try {
      const rows = await this.driver.query(
        'UPDATE webauthn_credentials SET description = $3 WHERE id = $1 AND username = $2 RETURNING id',
        [id, username, description],
      );
      return rows.length > 0 ? 'renamed' : 'not-found';
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) return 'duplicate';
      throw error;
    }
  }

  async deleteWebAuthnCredential(username: string, id: number): Promise<boolean> {
    const rows = await this.driver.query(
      'DELETE FROM webauthn_credentials WHERE id = $1 AND username = $2 RETURNING id',
      [id, username],
    );
    return rows.length > 0;
  }

  async getOrCreateWebAuthnUserHandle(rpid: string, username: string): Promise<string> {
    // Two replicas may race on a first registration: the insert keeps whichever handle was stored first.
    await this.driver.query(
      'INSERT INTO webauthn_users (rpid, username, user_id) VALUES ($1, $2, $3) ON CONFLICT (rpid, username) DO NOTHING',
      [rpid, username, randomBytes(USER_HANDLE_BYTES).toString('base64url')],
    );
    const [row] = await this.driver.query<{ user_id: string }>(
      'SELECT user_id FROM webauthn_users WHERE rpid = $1 AND username = $2',
      [rpid, username],
    );
    if (!row) throw new Error('the WebAuthn user handle vanished right after it was stored');
    return row.user_id;
  }

  async findUsernameByUserHandle(rpid: string, userHandle: string): Promise<string | undefined> {
    const [row] = await this.driver.query<{ username: string }>(
      'SELECT username FROM webauthn_users WHERE rpid = $1 AND user_id = $2',
      [rpid, userHandle],
    );
    return row?.username;
  }

  async recordIdentityVerification(verification: IdentityVerification): Promise<void> {
    const v = verification;
    await this.driver.query(
      'INSERT INTO identity_verification (jti, iat, issued_ip, exp, username, action) VALUES ($1, $2, $3, $4, $5, $6)',
      [v.jti, v.issuedAt, v.issuedIp, v.expiresAt, v.username, v.action],
    );
  }

  async consumeIdentityVerification(jti: string, ip: string, at: Date = new Date()): Promise<boolean> {
    // A malformed jti is simply unknown (and must not become a database error answered 5xx).
    if (!UUID.test(jti)) return false;
    // One statement: the row lock makes a concurrent second consumer re-check `consumed IS NULL` and miss.
    const rows = await this.driver.query(
      `UPDATE identity_verification SET consumed = $3, consumed_ip = $2
       WHERE jti = $1 AND consumed IS NULL AND exp > $3 RETURNING id`,
      [jti, ip, at],
    );
    return rows.length > 0;
  }

  async isIdentityVerificationPending(jti: string, at: Date = new Date()): Promise<boolean> {
    if (!UUID.test(jti)) return false;
    const rows = await this.driver.query(
      'SELECT 1 FROM identity_verification WHERE jti = $1 AND consumed IS NULL AND exp > $2',
      [jti, at],
    );
    return rows.length > 0;
  }

  async ensureIdentityTokenKeys(
    pruneBefore: Date,
    plan: (keys: readonly IdentityTokenKeyRecord[]) => Promise<IdentityTokenKeyRecord | undefined>,
  ): Promise<IdentityTokenKeyRecord[]> {
    return this.driver.transaction(async (tx) => {
      // Waiting, not trying: replicas starting together must end with one new key between them, never one each.
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))', [
        IDENTITY_TOKEN_KEYS_LOCK_CLASS,
        this.driver.schema,
      ]);
      await tx.query('DELETE FROM identity_token_keys WHERE not_after < $1', [pruneBefore]);
      const columns = 'kid, algorithm, public_jwk, private_key, created_at, active_from, not_after';
      const read = async () =>
        (
          await tx.query<IdentityTokenKeyRow>(
            `SELECT ${columns} FROM identity_token_keys ORDER BY active_from, created_at, kid`,
          )
        ).map(toIdentityTokenKey);
      const keys = await read();
      const added = await plan(keys);
      if (added === undefined) return keys;
      await tx.query(`INSERT INTO identity_token_keys (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        added.kid,
        added.algorithm,
        added.publicJwk,
        added.privateKey,
        added.createdAt,
        added.activeFrom,
        added.notAfter,
      ]);
      return read();
    });
  }

  async replaceRecoveryCodes(set: NewRecoveryCodeSet): Promise<number> {
    return this.driver.transaction(async (tx) => {
      // Two generations for one user at once: the second waits here for the first to commit, then replaces its set
      // (without the lock it would miss the first's new row and fail on the unique username).
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))', [RECOVERY_LOCK_CLASS, set.username]);
      await tx.query('DELETE FROM recovery_code_sets WHERE username = $1', [set.username]);
      const [inserted] = await tx.query<{ id: string | number }>(
        'INSERT INTO recovery_code_sets (username, created_at, salt) VALUES ($1, $2, $3) RETURNING id',
        [set.username, set.createdAt, set.salt],
      );
      if (!inserted) throw new Error('the recovery code set was not stored');
      const id = Number(inserted.id);
      for (const hash of set.hashes)
        await tx.query('INSERT INTO recovery_codes (set_id, code_hash) VALUES ($1, $2)', [id, hash]);
      return id;
    });
  }

  async findRecoveryCodeSet(username: string): Promise<RecoveryCodeSet | undefined> {
    const [row] = await this.driver.query<{
      id: string | number;
      username: string;
      created_at: Date;
      salt: Uint8Array;
      remaining: string | number;
    }>(
      `SELECT s.id, s.username, s.created_at, s.salt,
         (SELECT count(*) FROM recovery_codes c WHERE c.set_id = s.id AND c.used_at IS NULL)::int AS remaining
       FROM recovery_code_sets s WHERE s.username = $1`,
      [username],
    );
    return (
      row && {
        id: Number(row.id),
        username: row.username,
        createdAt: row.created_at,
        salt: toPlainBytes(row.salt),
        remaining: Number(row.remaining),
      }
    );
  }

  async useRecoveryCode(setId: number, codeHash: Uint8Array, usedAt: Date, ip: string): Promise<boolean> {
    // One statement: the row lock makes a concurrent second use re-check `used_at IS NULL` and miss.
    const rows = await this.driver.query(
      `UPDATE recovery_codes SET used_at = $3, used_ip = $4
       WHERE set_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id`,
      [setId, codeHash, usedAt, ip],
    );
    return rows.length > 0;
  }

  async pruneAuthenticationLogs(olderThan: Date, batchSize: number): Promise<number | undefined> {
    return this.driver.transaction(async (tx) => {
      // Try, never wait: while one replica prunes, the others skip this round rather than queue behind it.
      const [lock] = await tx.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1::int4, hashtext($2::text)) AS locked',
        [PRUNE_LOCK_CLASS, this.driver.schema],
      );
      if (lock?.locked !== true) return undefined;
      // By primary key in bounded batches: a short transaction each, so sign-ins never wait on a long delete.
      const [gone] = await tx.query<{ count: number }>(
        `WITH gone AS (
           DELETE FROM authentication_logs WHERE id IN (
             SELECT id FROM authentication_logs WHERE time < $1 ORDER BY time LIMIT $2
           ) RETURNING 1
         ) SELECT count(*)::int AS count FROM gone`,
        [olderThan, batchSize],
      );
      return Number(gone?.count ?? 0);
    });
  }
}

interface IdentityTokenKeyRow {
  kid: string;
  algorithm: string;
  public_jwk: string;
  private_key: Uint8Array;
  created_at: Date;
  active_from: Date;
  not_after: Date;
}

function toIdentityTokenKey(row: IdentityTokenKeyRow): IdentityTokenKeyRecord {
  return {
    kid: row.kid,
    algorithm: row.algorithm,
    publicJwk: row.public_jwk,
    privateKey: toPlainBytes(row.private_key),
    createdAt: row.created_at,
    activeFrom: row.active_from,
    notAfter: row.not_after,
  };
}

/** First key of the advisory lock held while the identity token keys are read and rotated ("JWKs" in ASCII). */
const IDENTITY_TOKEN_KEYS_LOCK_CLASS = 0x4a574b73;
/** First key of the advisory lock held while replacing a user's recovery codes ("Reco"); the second hashes the user. */
const RECOVERY_LOCK_CLASS = 0x5265636f;

/** First key of the advisory lock held while pruning ("Prun" in ASCII); the second is a hash of the schema name. */
const PRUNE_LOCK_CLASS = 0x5072756e;
