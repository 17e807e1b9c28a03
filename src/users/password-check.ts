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

export class PasswordChecker {
  constructor(
    private readonly users: UserProvider,
    private readonly regulator: Regulator,
  ) {}

  /**
   * The user when the password is theirs, they are enabled and not banned; otherwise undefined after the failure
   * floor. A banned user still pays for a full password verification so a ban cannot be told apart by timing.
   * Storage failures propagate (the caller answers 5xx).
   */
  async check(attempt: PasswordAttempt, options: PasswordCheckOptions): Promise<UserDetails | undefined> {
    const started = Date.now();
    const [banned, user] = await Promise.all([
      this.regulator.isBanned(attempt.username, attempt.ip),
      this.users.checkPassword(attempt.username, attempt.password),
    ]);
    const successful = !banned && user !== undefined;
    await this.regulator.record({
      username: attempt.username,
      ip: attempt.ip,
      successful,
      banned,
      authType: attempt.authType,
      requestUri: attempt.requestUri,
      requestMethod: attempt.requestMethod,
    });
    if (successful) return user;
    const floor = options.failureFloorMs + randomInt(0, Math.max(1, Math.floor(options.failureFloorMs / 10)));
    const wait = floor - (Date.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return undefined;
  }
}
