// The first factor, shared by the portal's sign-in and HTTP Basic credentials on the authz endpoints:
// regulated, logged in storage, and answered in the same time whatever the reason for a failure (SPEC §4, §8).
import { randomInt, randomUUID } from 'node:crypto';
import type { UserDetails, UserProvider } from './provider.js';
import type { Regulator } from '../regulation/regulator.js';
import { hasUnsafeCharacters, MAX_USERNAME_LENGTH, safeText } from '../text/safe-text.js';
import { NO_EVENTS, type FailureReason, type SecurityEvents } from '../observability/events.js';

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

/** Exclusive locks shared by all replicas (the session store's SET NX), held by a random owner token. */
export interface AttemptLocks {
  tryLock(name: string, owner: string, ttlSeconds: number): Promise<boolean>;
  extendLock(name: string, owner: string, ttlSeconds: number): Promise<boolean>;
  unlock(name: string, owner: string): Promise<void>;
}

/** Lock timings; the defaults suit production, tests may shorten them. */
export interface PasswordLockTimings {
  /**
   * How long a lock lives unless its holder refreshes it: a password check (hash verification, tens to hundreds of
   * ms, plus two storage round trips) with a wide margin. A replica that dies mid-check frees the user this soon.
   */
  ttlSeconds: number;
  /** The live holder pushes the expiry back this often, so a slow check never loses its lock. */
  refreshMs: number;
  /** How long an attempt waits for the lock before it is answered "busy, try again" (never "wrong password"). */
  waitMs: number;
}

export const DEFAULT_PASSWORD_LOCK_TIMINGS: PasswordLockTimings = { ttlSeconds: 2, refreshMs: 500, waitMs: 6_000 };

/** Polling for a lock held elsewhere: short first, then a little longer, with jitter so waiters do not march in step. */
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 50;

/**
 * The password could not be checked in time because other checks for the same user (or address) kept the lock, or
 * too many checks were already waiting for this replica's hash slots (hash-slots.ts): the caller answers 503 "try
 * again", never "wrong credentials".
 */
export class PasswordCheckBusyError extends Error {
  constructor(reason = 'another password check for this user is still running') {
    super(reason);
    this.name = 'PasswordCheckBusyError';
  }
}

/** The names of the locks one attempt takes, in a fixed order (user, then address) so waiters never deadlock. */
export function passwordLockNames(username: string, ip: string, modes: readonly ('user' | 'ip')[]): string[] {
  const names = [`password-check:user:${username}`];
  if (modes.includes('ip')) names.push(`password-check:ip:${ip}`);
  return names;
}

/** The shared locks an attempt holds, and its places in this process's queues. */
interface Held {
  names: string[];
  turns: (() => void)[];
}

export class PasswordChecker {
  /** Per lock name, the end of this process's queue of attempts (see `acquire`). */
  private readonly turns = new Map<string, Promise<void>>();

  constructor(
    private readonly users: UserProvider,
    private readonly regulator: Regulator,
    private readonly locks: AttemptLocks,
    private readonly modes: readonly ('user' | 'ip')[],
    private readonly timings: PasswordLockTimings = DEFAULT_PASSWORD_LOCK_TIMINGS,
    private readonly events: SecurityEvents = NO_EVENTS,
  ) {}

  /**
   * The user when the password is theirs, they are enabled and not banned; otherwise undefined after the failure
   * floor, whatever the reason. Rejects with PasswordCheckBusyError when the lock stayed taken for `waitMs`;
   * storage or Redis failures propagate (the caller answers 5xx).
   */
  async check(attempt: PasswordAttempt, options: PasswordCheckOptions): Promise<UserDetails | undefined> {
    const started = Date.now();
    // One check at a time per user (and per address in ip mode), across replicas: otherwise a burst of concurrent
    // guesses would all read "not banned" before the first failure is counted. Later attempts wait their turn.
    const owner = randomUUID();
    // Named as the regulator names its subjects (escaped, bounded), so one subject has one lock.
    const names = passwordLockNames(safeText(attempt.username, MAX_USERNAME_LENGTH), safeText(attempt.ip), this.modes);
    const held = await this.acquire(names, owner, started + this.timings.waitMs);
    if (held === undefined) {
      await this.recordBusy(attempt);
      throw new PasswordCheckBusyError();
    }
    const keepAlive = setInterval(() => void this.extend(held.names, owner), this.timings.refreshMs);
    keepAlive.unref();
    try {
      const user = await this.verify(attempt);
      if (user !== undefined) return user;
    } catch (error) {
      // This replica's hash slots were full (hash-slots.ts): as a lock that stayed taken, never counted.
      if (error instanceof PasswordCheckBusyError) await this.recordBusy(attempt);
      throw error;
    } finally {
      clearInterval(keepAlive);
      await this.release(held, owner);
    }
    const floor = options.failureFloorMs + randomInt(0, Math.max(1, Math.floor(options.failureFloorMs / 10)));
    const wait = floor - (Date.now() - started);
    if (wait > 0) await sleep(wait);
    return undefined;
  }

  /**
   * Takes every lock in order, waiting for each until the deadline; on time-out frees what it took. Attempts in this
   * process queue first (first come, first served), so only the head of each queue polls the shared lock: polling
   * alone is unfair, and a steady stream of newcomers could starve one waiter until its deadline.
   */
  private async acquire(names: readonly string[], owner: string, deadline: number): Promise<Held | undefined> {
    const held: Held = { names: [], turns: [] };
    try {
      for (const name of names) {
        const turn = await this.localTurn(name, deadline);
        if (turn === undefined) break;
        held.turns.push(turn);
        if (!(await this.pollLock(name, owner, deadline))) break;
        held.names.push(name);
      }
    } catch (error) {
      await this.release(held, owner);
      throw error;
    }
    if (held.names.length === names.length) return held;
    await this.release(held, owner);
    return undefined;
  }

  /** Waits until this process's earlier attempts on `name` are done; the function ends this attempt's turn. */
  private async localTurn(name: string, deadline: number): Promise<(() => void) | undefined> {
    const previous = this.turns.get(name) ?? Promise.resolve();
    let end!: () => void;
    const mine = new Promise<void>((resolve) => (end = resolve));
    const queue = previous.then(() => mine);
    this.turns.set(name, queue);
    const done = () => {
      end();
      if (this.turns.get(name) === queue) this.turns.delete(name);
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      previous.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return done;
    // Giving up early still lets those behind run as soon as those ahead are done.
    done();
    return undefined;
  }

  /** Logged (as refused, so never counted against anyone) for the operator; the password was not looked at. */
  private async recordBusy(attempt: PasswordAttempt): Promise<void> {
    await this.regulator.record({ ...this.logFields(attempt), successful: false, banned: true });
    this.logEvent(attempt, 'busy');
  }

  /** Polls the shared lock (held by another replica, or by a crashed one until it lapses) until the deadline. */
  private async pollLock(name: string, owner: string, deadline: number): Promise<boolean> {
    let pause = POLL_MIN_MS;
    while (!(await this.locks.tryLock(name, owner, this.timings.ttlSeconds))) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await sleep(Math.min(left, pause + randomInt(0, pause)));
      pause = Math.min(POLL_MAX_MS, pause * 2);
    }
    return true;
  }

  private async extend(held: readonly string[], owner: string): Promise<void> {
    // A refresh that fails (Redis slow or down) changes nothing for this check: it goes on, and the lock then
    // lapses after its TTL as a crashed holder's would.
    await Promise.allSettled(held.map((name) => this.locks.extendLock(name, owner, this.timings.ttlSeconds)));
  }

  private async release(held: Held, owner: string): Promise<void> {
    await Promise.allSettled(held.names.map((name) => this.locks.unlock(name, owner)));
    for (const end of held.turns) end();
  }

  /**
   * Regulated, verified and logged. A banned user still pays for a full verification (no timing tell). A username
   * no user can have (control bytes, lone surrogates, too long) is verified for the same time but never accepted,
   * and the failure is counted against its escaped form (the regulator makes stored text safe).
   */
  private async verify(attempt: PasswordAttempt): Promise<UserDetails | undefined> {
    const impossible = attempt.username.length > MAX_USERNAME_LENGTH || hasUnsafeCharacters(attempt.username);
    const [banned, user] = this.users.lookup
      ? await this.remoteCheck(attempt)
      : await Promise.all([
          this.regulator.isBanned(attempt.username, attempt.ip),
          this.users.checkPassword(attempt.username, attempt.password),
        ]);
    const successful = !banned && !impossible && user !== undefined;
    const banStarted = await this.regulator.record({ ...this.logFields(attempt), successful, banned });
    this.logEvent(
      attempt,
      successful ? undefined : banned ? 'banned' : impossible ? 'invalid_username' : 'bad_credentials',
    );
    if (banStarted) this.events.ban({ ...this.eventFields(attempt), banTimeSeconds: this.regulator.banTimeSeconds });
    return successful ? user : undefined;
  }

  /**
   * A backend that asks a server (LDAP): a banned subject's guesses never reach it, so a ban also spares the
   * directory (and its own lockout policy) the attacker's binds. The failure floor hides the shorter path.
   */
  private async remoteCheck(attempt: PasswordAttempt): Promise<[boolean, UserDetails | undefined]> {
    const banned = await this.regulator.isBanned(attempt.username, attempt.ip);
    if (banned) return [true, undefined];
    return [false, await this.users.checkPassword(attempt.username, attempt.password)];
  }

  /** The sign-in event (success without a reason); the username as typed, escaped by the events module. */
  private logEvent(attempt: PasswordAttempt, failure: FailureReason | undefined): void {
    if (failure === undefined) this.events.firstFactor({ ...this.eventFields(attempt), outcome: 'success' });
    else this.events.firstFactor({ ...this.eventFields(attempt), outcome: 'failure', reason: failure });
  }

  private eventFields(attempt: PasswordAttempt) {
    return {
      remoteIp: attempt.ip,
      method: attempt.authType === 'BASIC' ? ('basic' as const) : ('password' as const),
      user: attempt.username,
    };
  }

  private logFields(attempt: PasswordAttempt) {
    return {
      username: attempt.username,
      ip: attempt.ip,
      authType: attempt.authType,
      requestUri: attempt.requestUri,
      requestMethod: attempt.requestMethod,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
