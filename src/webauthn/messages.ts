// The short messages of the ceremonies' KO replies, in one table: a security event names its reason after the
// message it carries (`unknownKey` → `unknown_key`), so a message and its reason cannot drift apart.
import type { PortalError } from '../web/errors.js';
import { GUARD_MESSAGES } from '../web/guards.js';

export const MESSAGES = {
  // The route table's guards (web/guards.ts) say these first; the ceremonies check again (a session may end
  // between the guard and the ceremony) in the same words.
  notSignedIn: GUARD_MESSAGES.signInFirst,
  passwordNext: 'You signed in with a passkey: enter your password to complete the second step.',
  notElevated: GUARD_MESSAGES.notElevated,
  noRecentProof: GUARD_MESSAGES.noRecentProof,
  noChallenge: 'No security key request is in progress, or it expired. Start again.',
  notVerified: 'The security key could not be verified.',
  unknownKey: 'This security key is not registered to your account.',
  cloned: 'This security key was flagged as possibly copied and is refused. Delete it and register it again.',
  noKeys: 'No security key is registered for your account.',
  nameTaken: 'You already have a security key with this name.',
  keyTaken: 'This security key is already registered.',
  aaguidRefused: 'This kind of security key is not allowed here.',
  keyNotFound: 'No such security key.',
  passkeyOff: 'Not found.',
  passkeyFailed: 'Sign-in with this passkey failed.',
} as const;

/** Refusals that are steps of the flow (sign in first, wrong order, feature off), not attempts: no event. */
const FLOW_ERRORS = new Set(['not_signed_in', 'password_next', 'passkey_off']);

/** The event's reason: the refusal's own, else the name of its message (`unknownKey` → `unknown_key`). */
function refusalReason(refusal: PortalError): string {
  if (refusal.logDetail !== undefined) return refusal.logDetail;
  const name = Object.entries(MESSAGES).find(([, message]) => message === refusal.message)?.[0] ?? 'refused';
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The reason a failed sign-in attempt is reported with; undefined when the refusal was a step of the flow. */
export function attemptFailureReason(refusal: PortalError): string | undefined {
  const reason = refusalReason(refusal);
  return FLOW_ERRORS.has(reason) ? undefined : reason;
}
