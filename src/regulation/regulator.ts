// Brute-force protection (Authelia's regulation): a user, and with `modes: [ip]` an address, is banned when its
// last `max_retries` attempts all failed within `find_time`, until `ban_time` after the last of them. Attempts
// are counted in storage, so every replica agrees.
import type { Config } from '../config/schema.js';
import type { Storage } from '../storage/storage.js';
import { MAX_USERNAME_LENGTH, safeText } from '../text/safe-text.js';

export interface AttemptRecord {
  username: string;
  ip: string;
  successful: boolean;
  authType: string;
  requestUri: string;
  requestMethod: string;
  /** Refused because already banned: logged, but never counted (a ban is not extended by retrying). */
  banned?: boolean;
}

type Mode = Config['regulation']['modes'][number];
type Subject = { username: string } | { remoteIp: string };

export class Regulator {
  constructor(
    private readonly storage: Storage,
    private readonly config: Config['regulation'],
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Whether the user or address is banned right now. Rejects with StorageUnavailableError when the count cannot
   * be read: the caller must refuse the sign-in (5xx), never let it through unregulated.
   */
  async isBanned(username: string, ip: string): Promise<boolean> {
    if (this.config.max_retries <= 0) return false;
    const subjects = this.config.modes.map((mode) =>
      subjectOf(mode, safeText(username, MAX_USERNAME_LENGTH), safeText(ip)),
    );
    const bans = await Promise.all(subjects.map((subject) => this.isSubjectBanned(subject)));
    return bans.includes(true);
  }

  /**
   * Logs (and so counts) the attempt. Every text field is made safe first (escaped, bounded), the username exactly
   * as `isBanned` reads it, so an attempt with bad bytes is counted against the name it was made for.
   * Resolves true when this failure started a ban (for the `ban` event); one more read, on failures only.
   */
  async record(attempt: AttemptRecord): Promise<boolean> {
    await this.storage.appendAuthenticationLog({
      time: this.now(),
      successful: attempt.successful,
      banned: attempt.banned ?? false,
      username: safeText(attempt.username, MAX_USERNAME_LENGTH),
      authType: safeText(attempt.authType),
      remoteIp: safeText(attempt.ip),
      requestUri: safeText(attempt.requestUri),
      requestMethod: safeText(attempt.requestMethod, 64),
    });
    if (attempt.successful || attempt.banned === true || this.config.max_retries <= 0) return false;
    return this.isBanned(attempt.username, attempt.ip);
  }

  /** Seconds a ban lasts after the last failure (for the `ban` event). */
  get banTimeSeconds(): number {
    return this.config.ban_time;
  }

  private async isSubjectBanned(subject: Subject): Promise<boolean> {
    const now = this.now();
    const { max_retries: maxRetries, find_time: findTime, ban_time: banTime } = this.config;
    // A ban can only come from failures no older than ban_time (its end) plus find_time (its window).
    const since = new Date(now.getTime() - (banTime + findTime) * 1000);
    const latest = await this.storage.latestAuthenticationAttempts({
      ...subject,
      since,
      limit: maxRetries,
      excludeBanned: true,
    });
    if (latest.length < maxRetries || latest.some((attempt) => attempt.successful)) return false;
    const newest = latest[0]!.time.getTime();
    const oldest = latest[latest.length - 1]!.time.getTime();
    return newest - oldest <= findTime * 1000 && newest + banTime * 1000 > now.getTime();
  }
}

function subjectOf(mode: Mode, username: string, ip: string): Subject {
  return mode === 'user' ? { username } : { remoteIp: ip };
}
