// The first factor, shared by the portal's sign-in and HTTP Basic credentials on the authz endpoints:
// regulated, logged in storage, and answered in the same time whatever the reason for a failure (SPEC §4, §8).
import { randomInt } from 'node:crypto';
import type { UserDetails, UserProvider } from './provider.js';
import type { Regulator } from '../regulation/regulator.js';

export interface PasswordAttempt {
  username: string;
  password: string;
  ip: string;
  authType: '1FA' | 'BASIC';
  requestUri: string;
  requestMethod: string;
}

export interface PasswordCheckOptions {
  /** Failures are answered no sooner than this (plus up to 10% jitter) after the attempt started. */
  failureFloorMs: number;
}

/** Exclusive locks shared by all replicas (the session store's SET NX). */
export interface AttemptLocks {
  tryLock(name: string, ttlSeconds: number): Promise<boolean>;
  unlock(name: string): Promise<void>;
}

/** Longer than any password verification; a crashed replica's lock frees itself after this. */
const LOCK_SECONDS = 15;

export class PasswordChecker {
  constructor(
    private readonly users: UserProvider,
    private readonly regulator: Regulator,
    private readonly locks: AttemptLocks,
    private readonly modes: readonly ('user' | 'ip')[],
  ) {}

  /**
   * The user when the password is theirs, they are enabled and not banned; otherwise undefined after the failure
   * floor, whatever the reason. Storage or Redis failures propagate (the caller answers 5xx).
   */
  async check(attempt: PasswordAttempt, options: PasswordCheckOptions): Promise<UserDetails | undefined> {
    const started = Date.now();
    // One check at a time per user (and per address in ip mode), across replicas: otherwise a burst of concurrent
    // guesses would all read "not banned" before the first failure is counted. A guess that finds the lock taken is
    // refused unverified (logged as refused, not counted) after the usual floor.
    const names = this.lockNames(attempt);
    const held: string[] = [];
    try {
      for (const name of names) {
        if (!(await this.locks.tryLock(name, LOCK_SECONDS))) break;
        held.push(name);
      }
      const user = held.length === names.length ? await this.verify(attempt) : await this.refuseUnverified(attempt);
      if (user !== undefined) return user;
    } finally {
      await Promise.allSettled(held.map((name) => this.locks.unlock(name)));
    }
    const floor = options.failureFloorMs + randomInt(0, Math.max(1, Math.floor(options.failureFloorMs / 10)));
    const wait = floor - (Date.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return undefined;
  }

  private lockNames(attempt: PasswordAttempt): string[] {
    const names = [`password-check:user:${attempt.username}`];
    if (this.modes.includes('ip')) names.push(`password-check:ip:${attempt.ip}`);
    return names;
  }

  /** Regulated, verified and logged. A banned user still pays for a full verification (no timing tell). */
  private async verify(attempt: PasswordAttempt): Promise<UserDetails | undefined> {
    const [banned, user] = await Promise.all([
      this.regulator.isBanned(attempt.username, attempt.ip),
      this.users.checkPassword(attempt.username, attempt.password),
    ]);
    const successful = !banned && user !== undefined;
    await this.regulator.record({ ...this.logFields(attempt), successful, banned });
    return successful ? user : undefined;
  }

  private async refuseUnverified(attempt: PasswordAttempt): Promise<undefined> {
    await this.regulator.record({ ...this.logFields(attempt), successful: false, banned: true });
    return undefined;
  }

  private logFields(attempt: PasswordAttempt) {
    return { username: attempt.username, ip: attempt.ip, authType: attempt.authType, requestUri: attempt.requestUri, requestMethod: attempt.requestMethod };
  }
}
