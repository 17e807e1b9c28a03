// The YAML file `authelia storage user webauthn export` writes and `... import` reads (issue 4 item 9), read and
// written field for field. Facts from Authelia's source (internal/model/webauthn.go, WebAuthnCredentialData):
// a `webauthn_credentials` list; `kid`, `public_key` and `attestation` in standard base64 with padding; `aaguid` a
// UUID, left out when unknown; `created_at` / `last_used_at` RFC 3339 times (`last_used_at` left out when never
// used); `transports` a list; `sign_count` an unsigned 32-bit counter. Every problem is reported with its entry
// index, and a file with any problem is refused as a whole: nothing is imported from a half-valid file.
import { parseDocument, stringify } from 'yaml';
import { readDescription } from './input.js';

export const EXPORT_ROOT = 'webauthn_credentials';

/**
 * One credential as the export file holds it, decoded. Authelia's record, not Gatehouse's (storage's
 * WebAuthnCredential): its RP ID, raw credential ID, attestation type beside format and raw U2F keys mean what they
 * mean in Authelia. It maps to and from Gatehouse's record in authelia-migration.ts (fromExported, toExported) only.
 */
export interface ExportedCredential {
  createdAt: Date;
  lastUsedAt: Date | null;
  /** Authelia's RP ID: the portal's host name; empty or the portal's origin for keys migrated from U2F. */
  rpid: string;
  username: string;
  description: string;
  /** The credential ID (`kid`), raw. */
  credentialId: Uint8Array;
  /** Lower-case UUID, or null when the file leaves it out. */
  aaguid: string | null;
  attestationType: string;
  /** Newer Authelia versions write the attestation statement format apart from the type; '' when absent. */
  attestationFormat: string;
  attachment: string;
  transports: string[];
  signCount: number;
  cloneWarning: boolean;
  /** Authelia's marker for credentials carried over from its pre-4.38 tables (they may need registering again). */
  legacy: boolean;
  discoverable: boolean;
  present: boolean;
  verified: boolean;
  backupEligible: boolean;
  backupState: boolean;
  /** COSE key, or the raw P-256 point for a key enrolled through FIDO U2F. */
  publicKey: Uint8Array;
  /** Opaque attestation data as the source kept it, or null. */
  attestation: Uint8Array | null;
}

export class ExportFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`the WebAuthn export file is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ExportFileError';
  }
}

export interface ParsedExport {
  credentials: ExportedCredential[];
  /** Not fatal: e.g. fields this version does not know (a newer Authelia may add some). */
  warnings: string[];
}

/** Bounds on hostile input; generous for real exports. */
const LIMITS = {
  fileBytes: 32 * 1024 * 1024,
  entries: 100_000,
  rpid: 512,
  username: 100,
  typeName: 64,
  credentialIdBytes: 1023, // WebAuthn §5.8.3
  publicKeyBytes: 2048,
  attestationBytes: 1024 * 1024,
  transports: 8,
};

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const TRANSPORT = /^[a-z][a-z-]{0,31}$/;
const ATTACHMENTS = new Set(['', 'platform', 'cross-platform']);
const CONTROL = /\p{Cc}/u;
const MAX_UINT32 = 0xffff_ffff;

const BOOLEAN_FIELDS = {
  clone_warning: 'cloneWarning',
  legacy: 'legacy',
  discoverable: 'discoverable',
  present: 'present',
  verified: 'verified',
  backup_eligible: 'backupEligible',
  backup_state: 'backupState',
} as const satisfies Record<string, keyof ExportedCredential>;

const KNOWN_FIELDS = new Set([
  'created_at',
  'last_used_at',
  'rpid',
  'username',
  'description',
  'kid',
  'aaguid',
  'attestation_type',
  'attestation_format',
  'attachment',
  'transports',
  'sign_count',
  ...Object.keys(BOOLEAN_FIELDS),
  'public_key',
  'attestation',
]);

/** Reads the fields of one entry, collecting every problem. */
class EntryReader {
  constructor(
    private readonly entry: Record<string, unknown>,
    private readonly path: string,
    private readonly problems: string[],
  ) {}

  /** Records the problem and returns the fallback, so reading goes on and every field is checked. */
  #fail<T>(field: string, reason: string, fallback: T): T {
    this.problems.push(`${this.path}.${field}: ${reason}`);
    return fallback;
  }

  #value(field: string): unknown {
    const value = this.entry[field];
    return value === null ? undefined : value;
  }

  string(field: string, options: { required?: boolean; max: number }): string {
    const value = this.#value(field);
    if (value === undefined) {
      if (options.required) this.#fail(field, 'is required', undefined);
      return '';
    }
    if (typeof value !== 'string') return this.#fail(field, 'must be a string', '');
    if (value.length > options.max) return this.#fail(field, `must be at most ${options.max} characters`, '');
    if (CONTROL.test(value)) return this.#fail(field, 'must not contain control characters', '');
    if (options.required && value === '') this.#fail(field, 'must not be empty', undefined);
    return value;
  }

  time(field: string, options: { required?: boolean }): Date | null {
    const value = this.#value(field);
    if (value === undefined) {
      if (options.required) this.#fail(field, 'is required', undefined);
      return null;
    }
    const date = typeof value === 'string' && RFC3339.test(value) ? new Date(value) : undefined;
    if (date === undefined || Number.isNaN(date.getTime())) return this.#fail(field, 'must be an RFC 3339 time', null);
    return date;
  }

  base64(field: string, options: { required?: boolean; maxBytes: number }): Uint8Array | null {
    const value = this.#value(field);
    if (value === undefined || value === '') {
      if (options.required) this.#fail(field, value === undefined ? 'is required' : 'must not be empty', undefined);
      return null;
    }
    const maxCharacters = Math.ceil(options.maxBytes / 3) * 4;
    if (typeof value === 'string' && value.length > maxCharacters)
      return this.#fail(field, `must decode to at most ${options.maxBytes} bytes`, null);
    if (typeof value !== 'string' || !STANDARD_BASE64.test(value))
      return this.#fail(field, 'must be standard base64 with padding', null);
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length > options.maxBytes)
      return this.#fail(field, `must decode to at most ${options.maxBytes} bytes`, null);
    return new Uint8Array(bytes);
  }

  boolean(field: string): boolean {
    const value = this.#value(field);
    if (value === undefined) return false;
    if (typeof value !== 'boolean') return this.#fail(field, 'must be true or false', false);
    return value;
  }

  counter(field: string): number {
    const value = this.#value(field);
    if (value === undefined) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
      return this.#fail(field, `must be an integer from 0 to ${MAX_UINT32}`, 0);
    }
    return value;
  }

  uuid(field: string): string | null {
    const value = this.#value(field);
    if (value === undefined) return null;
    if (typeof value !== 'string' || !UUID.test(value)) return this.#fail(field, 'must be a UUID', null);
    return value.toLowerCase();
  }

  transports(field: string): string[] {
    const value = this.#value(field);
    if (value === undefined) return [];
    if (
      !Array.isArray(value) ||
      value.length > LIMITS.transports ||
      !value.every((t) => typeof t === 'string' && TRANSPORT.test(t))
    ) {
      return this.#fail(field, `must be a list of at most ${LIMITS.transports} transport names (e.g. usb, nfc)`, []);
    }
    return [...new Set(value as string[])];
  }

  description(field: string): string {
    const raw = this.string(field, { required: true, max: 256 });
    if (raw === '') return '';
    try {
      return readDescription(raw);
    } catch (error) {
      return this.#fail(field, error instanceof Error ? error.message : 'is not a valid key name', '');
    }
  }

  attachment(field: string): string {
    const value = this.string(field, { max: LIMITS.typeName });
    if (!ATTACHMENTS.has(value)) return this.#fail(field, "must be 'platform', 'cross-platform' or empty", '');
    return value;
  }
}

function readEntry(entry: Record<string, unknown>, path: string, problems: string[]): ExportedCredential | undefined {
  const before = problems.length;
  const read = new EntryReader(entry, path, problems);
  const booleans = Object.fromEntries(
    Object.entries(BOOLEAN_FIELDS).map(([field, key]) => [key, read.boolean(field)]),
  ) as Pick<ExportedCredential, (typeof BOOLEAN_FIELDS)[keyof typeof BOOLEAN_FIELDS]>;
  const credential: ExportedCredential = {
    createdAt: read.time('created_at', { required: true }) ?? new Date(0),
    lastUsedAt: read.time('last_used_at', {}),
    rpid: read.string('rpid', { max: LIMITS.rpid }),
    username: read.string('username', { required: true, max: LIMITS.username }),
    description: read.description('description'),
    credentialId: read.base64('kid', { required: true, maxBytes: LIMITS.credentialIdBytes }) ?? new Uint8Array(),
    aaguid: read.uuid('aaguid'),
    attestationType: read.string('attestation_type', { max: LIMITS.typeName }),
    attestationFormat: read.string('attestation_format', { max: LIMITS.typeName }),
    attachment: read.attachment('attachment'),
    transports: read.transports('transports'),
    signCount: read.counter('sign_count'),
    ...booleans,
    publicKey: read.base64('public_key', { required: true, maxBytes: LIMITS.publicKeyBytes }) ?? new Uint8Array(),
    attestation: read.base64('attestation', { maxBytes: LIMITS.attestationBytes }),
  };
  return problems.length === before ? credential : undefined;
}

/** Parses and checks a whole export; throws ExportFileError listing every problem. */
export function parseAutheliaExport(text: string): ParsedExport {
  if (Buffer.byteLength(text) > LIMITS.fileBytes)
    throw new ExportFileError([`the file is larger than ${LIMITS.fileBytes} bytes`]);
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ExportFileError(
      document.errors.map(
        (e) => `YAML ${e.linePos?.[0] ? `line ${e.linePos[0].line}: ` : ''}${e.message.split('\n')[0]}`,
      ),
    );
  }
  const root: unknown = document.toJS({ maxAliasCount: 100 });
  if (typeof root !== 'object' || root === null || Array.isArray(root))
    throw new ExportFileError([`the file must be a mapping with a '${EXPORT_ROOT}' list`]);
  const list = (root as Record<string, unknown>)[EXPORT_ROOT];
  if (!Array.isArray(list)) throw new ExportFileError([`${EXPORT_ROOT}: must be a list`]);
  if (list.length === 0) throw new ExportFileError([`${EXPORT_ROOT}: the file holds no WebAuthn credentials`]);
  if (list.length > LIMITS.entries) throw new ExportFileError([`${EXPORT_ROOT}: more than ${LIMITS.entries} entries`]);

  const problems: string[] = [];
  const warnings = Object.keys(root)
    .filter((key) => key !== EXPORT_ROOT)
    .map((key) => `${key}: not a WebAuthn export key, ignored`);
  const unknownFields = new Set<string>();
  const credentials: ExportedCredential[] = [];
  const firstIndexOfKid = new Map<string, number>();
  for (const [index, entry] of (list as unknown[]).entries()) {
    const path = `${EXPORT_ROOT}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${path}: must be a mapping`);
      continue;
    }
    for (const key of Object.keys(entry)) if (!KNOWN_FIELDS.has(key)) unknownFields.add(key);
    const credential = readEntry(entry as Record<string, unknown>, path, problems);
    if (credential === undefined) continue;
    const kid = Buffer.from(credential.credentialId).toString('base64url');
    const first = firstIndexOfKid.get(kid);
    if (first !== undefined) {
      problems.push(`${path}.kid: the same credential ID as ${EXPORT_ROOT}[${first}]`);
      continue;
    }
    firstIndexOfKid.set(kid, index);
    credentials.push(credential);
  }
  if (problems.length > 0) throw new ExportFileError(problems);
  for (const field of [...unknownFields].sort()) warnings.push(`${EXPORT_ROOT}[].${field}: unknown field, ignored`);
  return { credentials, warnings };
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The file Authelia's import reads: same field names, order and encodings as its export. */
export function serialiseAutheliaExport(credentials: readonly ExportedCredential[]): string {
  const entries = credentials.map((c) => ({
    created_at: c.createdAt.toISOString(),
    ...(c.lastUsedAt ? { last_used_at: c.lastUsedAt.toISOString() } : {}),
    rpid: c.rpid,
    username: c.username,
    description: c.description,
    kid: base64(c.credentialId),
    ...(c.aaguid ? { aaguid: c.aaguid } : {}),
    attestation_type: c.attestationType,
    attestation_format: c.attestationFormat,
    attachment: c.attachment,
    transports: c.transports,
    sign_count: c.signCount,
    clone_warning: c.cloneWarning,
    legacy: c.legacy,
    discoverable: c.discoverable,
    present: c.present,
    verified: c.verified,
    backup_eligible: c.backupEligible,
    backup_state: c.backupState,
    public_key: base64(c.publicKey),
    attestation: c.attestation ? base64(c.attestation) : '',
  }));
  // No line folding: base64 values stay on one line, as Authelia writes them.
  const body = stringify({ [EXPORT_ROOT]: entries }, { lineWidth: 0 });
  return `# WebAuthn credentials in the format of 'authelia storage user webauthn export'.\n\n${body}`;
}
