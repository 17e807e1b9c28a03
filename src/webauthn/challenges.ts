// Ceremony challenges in the session (SPEC §6): one per ceremony, bound to the session that asked for it, expiring
// after `webauthn.timeout`, and removed by the first attempt to use it, whatever that attempt's outcome. The caller
// saves the session; taking a challenge must be saved before the response is verified, so a failed or replayed
// attempt cannot try the same challenge again.
import type { Session } from '../session/model.js';

export type Ceremony = 'registration' | 'authentication' | 'passkey';

export function putChallenge(
  session: Session,
  ceremony: Ceremony,
  challenge: string,
  expiresAt: number,
  now: number,
): void {
  const pending = dropExpired(session.data.pending, now);
  pending[ceremony] = { value: challenge, expiresAt };
  session.data.pending = pending;
}

/** The live challenge of the ceremony, removed from the session; undefined when absent or expired. */
export function takeChallenge(session: Session, ceremony: Ceremony, now: number): string | undefined {
  const entry = session.data.pending?.[ceremony];
  if (entry === undefined) return undefined;
  const pending = dropExpired(session.data.pending, now);
  delete pending[ceremony];
  if (Object.keys(pending).length === 0) delete session.data.pending;
  else session.data.pending = pending;
  return entry.expiresAt > now && typeof entry.value === 'string' ? entry.value : undefined;
}

function dropExpired(
  pending: NonNullable<Session['data']['pending']> | undefined,
  now: number,
): NonNullable<Session['data']['pending']> {
  const kept: NonNullable<Session['data']['pending']> = {};
  for (const [name, entry] of Object.entries(pending ?? {})) if (entry.expiresAt > now) kept[name] = entry;
  return kept;
}
