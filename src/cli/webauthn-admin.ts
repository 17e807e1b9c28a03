// `gatehouse storage user webauthn list|delete` (as Authelia's commands): an operator's view of the stored keys,
// and the way out for a user who lost theirs. Names are printed escaped: a key's name is chosen by its user and
// must not drive the operator's terminal.
import type { WebAuthnCredential } from '../storage/storage.js';
import { safeText } from '../text/safe-text.js';

export interface KeyStore {
  listWebAuthnCredentials(username: string): Promise<WebAuthnCredential[]>;
  listAllWebAuthnCredentials(): Promise<WebAuthnCredential[]>;
  findWebAuthnCredentialByKid(kid: string): Promise<WebAuthnCredential | undefined>;
  deleteWebAuthnCredential(username: string, id: number): Promise<boolean>;
}

/** Which keys `delete` removes: exactly one of the three selectors. */
export type DeleteSelector = { all: true } | { description: string } | { kid: string };

/** A failure to report (exit 1), not a usage error. */
export class KeyAdminError extends Error {}

const date = (d: Date | null) => (d === null ? 'never' : d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('    '))
    .join('\n');
}

export async function listKeys(store: KeyStore, username: string | undefined): Promise<string> {
  const keys =
    username === undefined ? await store.listAllWebAuthnCredentials() : await store.listWebAuthnCredentials(username);
  if (keys.length === 0) {
    if (username === undefined) return 'No WebAuthn credentials are stored.';
    throw new KeyAdminError(`user '${safeText(username)}' has no WebAuthn credentials`);
  }
  const header =
    username === undefined ? 'WebAuthn credentials:' : `WebAuthn credentials of user '${safeText(username)}':`;
  const rows = keys.map((k) => [
    String(k.id),
    safeText(k.username),
    k.rpid,
    k.kid,
    date(k.createdAt),
    date(k.lastUsedAt),
    safeText(k.description),
  ]);
  return `${header}\n\n${table([['ID', 'User', 'RPID', 'KID', 'Created', 'Last used', 'Description'], ...rows])}`;
}

/** Authelia prints standard base64; Gatehouse stores base64url: both name the same bytes. */
export function normaliseKid(kid: string): string {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(kid))
    throw new KeyAdminError(`'${safeText(kid)}' is not a key ID (base64url or base64)`);
  return Buffer.from(kid, 'base64').toString('base64url');
}

/** Deletes the selected keys; resolves the lines to print. */
export async function deleteKeys(
  store: KeyStore,
  username: string | undefined,
  selector: DeleteSelector,
): Promise<string[]> {
  if ('kid' in selector) {
    const key = await store.findWebAuthnCredentialByKid(normaliseKid(selector.kid));
    if (key === undefined || (username !== undefined && key.username !== username)) {
      throw new KeyAdminError(
        `no WebAuthn credential with key ID '${safeText(selector.kid)}'${username === undefined ? '' : ` belongs to user '${safeText(username)}'`}`,
      );
    }
    await store.deleteWebAuthnCredential(key.username, key.id);
    return [
      `Deleted WebAuthn credential ${key.id} ('${safeText(key.description)}') of user '${safeText(key.username)}'`,
    ];
  }
  const user = username!;
  const keys = await store.listWebAuthnCredentials(user);
  const chosen = 'all' in selector ? keys : keys.filter((k) => k.description === selector.description);
  if (chosen.length === 0) {
    throw new KeyAdminError(
      'all' in selector
        ? `user '${safeText(user)}' has no WebAuthn credentials`
        : `user '${safeText(user)}' has no WebAuthn credential named '${safeText(selector.description)}'`,
    );
  }
  const lines: string[] = [];
  for (const key of chosen) {
    if (await store.deleteWebAuthnCredential(user, key.id))
      lines.push(`Deleted WebAuthn credential ${key.id} ('${safeText(key.description)}') of user '${safeText(user)}'`);
  }
  return lines;
}
