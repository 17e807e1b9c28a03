// Carrying enrolled keys over from Authelia (issue 4 item 9): an export file's credentials become Gatehouse's
// stored credentials and back. IDs, public keys, counters, AAGUIDs, names, dates and flags are kept, so users keep
// their keys. Keys Authelia carried over from its FIDO U2F days (attestation `fido-u2f` with the raw U2F point as
// public key, its RP ID empty or the portal's origin) are stored as legacy U2F keys whose AppID is the portal's
// origin: they sign in through the `appid` extension (SPEC §6). An import is one transaction: all or nothing.
import type { CookieSettings } from '../config/cookies.js';
import type { SqlDriver, SqlExecutor } from '../storage/sql-driver.js';
import { SqlStorage } from '../storage/sql-storage.js';
import type { WebAuthnCredential } from '../storage/storage.js';
import { cose, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import { EXPORT_ROOT, ExportFileError, type ExportedCredential } from './authelia-export.js';
import { relyingParty, type RelyingParty } from './options.js';
import { coseToU2fPoint, isU2fPublicKey, u2fPointToCose } from './u2f-key.js';
import { SUPPORTED_ALGORITHMS } from './verify.js';

const U2F_FORMAT = 'fido-u2f';
const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** A credential ready to store. */
export interface PlannedCredential {
  /** Where it came from in the file, for messages: `webauthn_credentials[3]`. */
  source: string;
  /** The whole record but its ID (the database assigns it); its history too, which a registration has not. */
  credential: Omit<WebAuthnCredential, 'id'>;
}

export interface ImportPlan {
  planned: PlannedCredential[];
  warnings: string[];
}

export interface ImportResult {
  imported: number;
  /** One message per credential left out because its ID is already stored. */
  skipped: string[];
}

interface ResolvedRp {
  rp?: RelyingParty;
  /** The origin a U2F key was registered under, when the file names one. */
  appidOrigin?: string;
  problem?: string;
  warning?: string;
}

/**
 * Authelia's `rpid` is the portal's host name; for a key migrated from U2F it is empty until first used, then
 * the portal's origin. Each is matched against the configured portals (one per cookie domain).
 */
function resolveRp(rpid: string, portals: readonly RelyingParty[]): ResolvedRp {
  if (rpid === '') {
    if (portals.length === 1) return { rp: portals[0] };
    return {
      problem: `is empty and ${portals.length} portals are configured (session.cookies): cannot tell which one the key belongs to`,
    };
  }
  let host = rpid.toLowerCase();
  let appidOrigin: string | undefined;
  if (rpid.includes('://')) {
    let url: URL;
    try {
      url = new URL(rpid);
    } catch {
      return { problem: 'is neither a host name nor an origin' };
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== rpid.replace(/\/$/, ''))
      return { problem: 'is neither a host name nor an origin' };
    host = url.hostname;
    appidOrigin = url.origin;
  } else if (!HOST_NAME.test(host)) {
    return { problem: 'is not a host name' };
  }
  const known = portals.find((portal) => portal.id === host);
  if (known) return { rp: known, appidOrigin };
  return {
    rp: { id: host, origin: appidOrigin ?? `https://${host}` },
    appidOrigin,
    warning: `no configured portal has the host '${host}': the key is imported but cannot be used until one does`,
  };
}

function isSupportedCoseKey(bytes: Uint8Array): boolean {
  try {
    const alg = decodeCredentialPublicKey(new Uint8Array(bytes)).get(cose.COSEKEYS.alg);
    return typeof alg === 'number' && SUPPORTED_ALGORITHMS.includes(alg);
  } catch {
    return false;
  }
}

/** Maps every exported credential onto the configured portals; throws ExportFileError listing every problem. */
export function planImport(exported: readonly ExportedCredential[], cookies: readonly CookieSettings[]): ImportPlan {
  const portals = [...new Map(cookies.map(relyingParty).map((rp) => [rp.id, rp])).values()];
  const problems: string[] = [];
  const warnings: string[] = [];
  const planned: PlannedCredential[] = [];
  const firstWithName = new Map<string, string>();
  for (const [index, c] of exported.entries()) {
    const source = `${EXPORT_ROOT}[${index}]`;
    const resolved = resolveRp(c.rpid, portals);
    if (resolved.warning) warnings.push(`${source}.rpid: ${resolved.warning}`);
    if (resolved.rp === undefined) {
      problems.push(`${source}.rpid: ${resolved.problem}`);
      continue;
    }
    const rp = resolved.rp;

    const u2fFormat = c.attestationType === U2F_FORMAT || c.attestationFormat === U2F_FORMAT;
    const rawU2fKey = isU2fPublicKey(c.publicKey);
    let publicKey = c.publicKey;
    let legacyU2fAppid: string | null = null;
    if (rawU2fKey && !u2fFormat) {
      problems.push(`${source}.public_key: a raw U2F key, but the attestation type is not '${U2F_FORMAT}'`);
      continue;
    }
    if (rawU2fKey) {
      // The key signs over SHA-256(AppID); Gatehouse asks with the portal's origin, so the two must be the same.
      if (resolved.appidOrigin !== undefined && resolved.appidOrigin !== rp.origin) {
        problems.push(
          `${source}.rpid: the U2F AppID '${resolved.appidOrigin}' is not the portal's origin '${rp.origin}'`,
        );
        continue;
      }
      publicKey = u2fPointToCose(c.publicKey);
      legacyU2fAppid = rp.origin;
    } else if (!isSupportedCoseKey(c.publicKey)) {
      problems.push(`${source}.public_key: not a COSE key of a supported algorithm (ES256, EdDSA, RS256)`);
      continue;
    }

    // Names are unique per user and portal (as in Authelia); two entries clashing would fail the insert later.
    const nameKey = JSON.stringify([rp.id, c.username, c.description]);
    const clash = firstWithName.get(nameKey);
    if (clash !== undefined) {
      problems.push(`${source}.description: '${c.description}' is also the name of ${clash} for this user`);
      continue;
    }
    firstWithName.set(nameKey, source);

    planned.push({ source, credential: fromExported(c, { rpid: rp.id, publicKey, legacyU2fAppid }) });
  }
  if (problems.length > 0) throw new ExportFileError(problems);
  return { planned, warnings };
}

/** A driver whose every statement runs inside the open transaction `tx`. */
function withinTransaction(driver: SqlDriver, tx: SqlExecutor): SqlDriver {
  return {
    kind: driver.kind,
    schema: driver.schema,
    query: (sql, params) => tx.query(sql, params),
    exec: (sql) => tx.exec(sql),
    transaction: (work) => work(tx),
    close: async () => undefined,
  };
}

/**
 * Stores the planned credentials in one transaction (migrations applied first). A credential whose ID is already
 * stored is skipped with a message; a name already taken by another of the user's keys rolls everything back.
 */
export async function storePlanned(driver: SqlDriver, planned: readonly PlannedCredential[]): Promise<ImportResult> {
  await new SqlStorage(driver).migrate();
  return driver.transaction(async (tx) => {
    const storage = new SqlStorage(withinTransaction(driver, tx));
    const skipped: string[] = [];
    const clashes: string[] = [];
    for (const { source, credential } of planned) {
      const { lastUsedAt, cloneWarning, ...record } = credential;
      const saved = await storage.saveWebAuthnCredential(record);
      if (!saved.saved) {
        if (saved.conflict === 'kid')
          skipped.push(`${source}: a credential with this ID (kid) is already stored; skipped`);
        else
          clashes.push(
            `${source}.description: user '${record.username}' already has a key named '${record.description}' on ${record.rpid}`,
          );
        continue;
      }
      // Not part of a new registration, so not taken by saveWebAuthnCredential; a clone warning must survive.
      if (lastUsedAt !== null || cloneWarning)
        await storage.restoreWebAuthnCredentialHistory(saved.id, lastUsedAt, cloneWarning);
      // Authelia's export carries no user handle: each user gets a new one (used by passkey sign-in only).
      await storage.getOrCreateWebAuthnUserHandle(record.rpid, record.username);
    }
    if (clashes.length > 0) throw new ExportFileError(clashes);
    return { imported: planned.length - skipped.length, skipped };
  });
}

/**
 * An exported credential as Gatehouse stores it, once planImport has placed it: the portal it belongs to, and its
 * public key as COSE with the AppID of a key enrolled through U2F.
 */
export function fromExported(
  c: ExportedCredential,
  placed: Pick<WebAuthnCredential, 'rpid' | 'publicKey' | 'legacyU2fAppid'>,
): Omit<WebAuthnCredential, 'id'> {
  return {
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt,
    rpid: placed.rpid,
    username: c.username,
    description: c.description,
    kid: Buffer.from(c.credentialId).toString('base64url'),
    aaguid: c.aaguid,
    // Gatehouse keeps the attestation statement format here; older Authelia versions wrote it as the type.
    attestationType: c.attestationFormat || c.attestationType,
    attachment: c.attachment,
    transports: c.transports,
    signCount: c.signCount,
    cloneWarning: c.cloneWarning,
    discoverable: c.discoverable,
    present: c.present,
    verified: c.verified,
    backupEligible: c.backupEligible,
    backupState: c.backupState,
    publicKey: placed.publicKey,
    attestation: c.attestation,
    legacyU2fAppid: placed.legacyU2fAppid,
  };
}

/** A stored credential as Authelia's export writes it (legacy U2F keys back in their raw form and origin RP ID). */
export function toExported(c: WebAuthnCredential): ExportedCredential {
  const legacyU2f = c.legacyU2fAppid !== null;
  return {
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt,
    rpid: c.legacyU2fAppid ?? c.rpid,
    username: c.username,
    description: c.description,
    credentialId: new Uint8Array(Buffer.from(c.kid, 'base64url')),
    aaguid: c.aaguid,
    attestationType: c.attestationType,
    attestationFormat: c.attestationType,
    attachment: c.attachment,
    transports: c.transports,
    signCount: c.signCount,
    cloneWarning: c.cloneWarning,
    legacy: legacyU2f,
    discoverable: c.discoverable,
    present: c.present,
    verified: c.verified,
    backupEligible: c.backupEligible,
    backupState: c.backupState,
    publicKey: (legacyU2f ? coseToU2fPoint(c.publicKey) : undefined) ?? c.publicKey,
    attestation: c.attestation,
  };
}

/** Every stored credential, by user then age (migrations applied first). */
export async function loadAllCredentials(driver: SqlDriver): Promise<WebAuthnCredential[]> {
  const storage = new SqlStorage(driver);
  await storage.migrate();
  return storage.listAllWebAuthnCredentials();
}
