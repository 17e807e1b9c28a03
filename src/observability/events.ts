// Security events: one info line per sign-in, second factor, ban, key change and sign-out, for people reading the
// log and for fail2ban / CrowdSec (docs/operators-guide.md, deploy/fail2ban/). The names, messages and the order of
// the fields are a contract: the fail2ban filter matches `event`, `outcome` and `remote_ip` as the first fields, so
// nothing a client chooses (the username, a key's name) can come before the address and forge another one.
// Never a password, token, session ID or one-time code here; text from the client is escaped (safe-text.ts).
import type { Logger } from 'pino';
import { MAX_USERNAME_LENGTH, safeText } from '../text/safe-text.js';

export type SignInMethod = 'password' | 'basic' | 'webauthn' | 'passkey' | 'recovery_code';
export type Outcome = 'success' | 'failure';

/** Every event name, in one place. */
export const EVENT = {
  firstFactor: 'first_factor',
  secondFactor: 'second_factor',
  ban: 'ban',
  keyAdded: 'webauthn_key_added',
  keyRemoved: 'webauthn_key_removed',
  signOut: 'sign_out',
  recoveryCodesGenerated: 'recovery_codes_generated',
} as const;
export type EventName = (typeof EVENT)[keyof typeof EVENT];

/** The fixed message of each event (and outcome): what a person reads; the filters match the fields instead. */
export const MESSAGE = {
  first_factor: { success: 'sign-in succeeded', failure: 'sign-in failed' },
  second_factor: { success: 'second factor passed', failure: 'second factor failed' },
  ban: 'sign-in banned by regulation',
  webauthn_key_added: 'security key added',
  webauthn_key_removed: 'security key removed',
  sign_out: 'signed out',
  recovery_codes_generated: 'recovery codes generated',
} as const;

/** Why a sign-in failed (first or second factor). */
export type FailureReason =
  | 'bad_credentials' // unknown user, wrong password, disabled user: never told apart (timing-safe)
  | 'invalid_username' // bytes no username can hold
  | 'banned' // refused by regulation, whatever the password
  | 'busy' // other checks of this account held the lock too long: answered 503 "try again"
  | 'unknown_key'
  | 'not_verified'
  | 'cloned'
  | 'no_challenge'
  | 'user_disabled'
  | (string & {});

interface Attempt {
  remoteIp: string;
  method: SignInMethod;
  /** Absent when no user is known (a passkey nobody owns). */
  user?: string;
}

/** A field value safe on one log line: escaped control characters, bounded. */
const user = (name: string | undefined) =>
  name === undefined || name === '' ? undefined : safeText(name, MAX_USERNAME_LENGTH);
const address = (ip: string) => safeText(ip, 64);

/** Writes the security events. Fields are built in a fixed order: event, outcome, remote_ip, method, user, reason. */
export class SecurityEvents {
  constructor(private readonly logger: Pick<Logger, 'info'>) {}

  firstFactor(
    attempt: (Attempt & { outcome: 'success' }) | (Attempt & { outcome: 'failure'; reason: FailureReason }),
  ): void {
    this.#attempt(EVENT.firstFactor, attempt);
  }

  secondFactor(
    attempt: (Attempt & { outcome: 'success' }) | (Attempt & { outcome: 'failure'; reason: FailureReason }),
  ): void {
    this.#attempt(EVENT.secondFactor, attempt);
  }

  /** A failure that made the user (or, with `modes: [ip]`, the address) banned: logged once, when the ban starts. */
  ban(attempt: Attempt & { banTimeSeconds: number }): void {
    this.logger.info(
      {
        event: EVENT.ban,
        outcome: 'failure',
        remote_ip: address(attempt.remoteIp),
        method: attempt.method,
        user: user(attempt.user),
        ban_time: attempt.banTimeSeconds,
      },
      MESSAGE.ban,
    );
  }

  keyAdded(change: KeyChange): void {
    this.#key(EVENT.keyAdded, change);
  }

  keyRemoved(change: KeyChange): void {
    this.#key(EVENT.keyRemoved, change);
  }

  signOut(change: { remoteIp: string; user: string }): void {
    this.logger.info(
      { event: EVENT.signOut, outcome: 'success', remote_ip: address(change.remoteIp), user: user(change.user) },
      MESSAGE.sign_out,
    );
  }

  /** A new set of recovery codes replaced any earlier one (never a code here). */
  recoveryCodesGenerated(change: { remoteIp: string; user: string; count: number }): void {
    this.logger.info(
      {
        event: EVENT.recoveryCodesGenerated,
        outcome: 'success',
        remote_ip: address(change.remoteIp),
        user: user(change.user),
        count: change.count,
      },
      MESSAGE.recovery_codes_generated,
    );
  }

  #attempt(
    event: 'first_factor' | 'second_factor',
    attempt: Attempt & { outcome: Outcome; reason?: FailureReason },
  ): void {
    this.logger.info(
      {
        event,
        outcome: attempt.outcome,
        remote_ip: address(attempt.remoteIp),
        method: attempt.method,
        user: user(attempt.user),
        reason: attempt.outcome === 'failure' ? attempt.reason : undefined,
      },
      MESSAGE[event][attempt.outcome],
    );
  }

  #key(event: 'webauthn_key_added' | 'webauthn_key_removed', change: KeyChange): void {
    this.logger.info(
      {
        event,
        outcome: 'success',
        remote_ip: address(change.remoteIp),
        user: user(change.user),
        credential_id: change.credentialId,
        description: safeText(change.description, 128),
      },
      MESSAGE[event],
    );
  }
}

export interface KeyChange {
  remoteIp: string;
  user: string;
  credentialId: number;
  description: string;
}

/** For code that may run without a logger (tests, the CLI). */
export const NO_EVENTS = new SecurityEvents({ info: () => undefined });
