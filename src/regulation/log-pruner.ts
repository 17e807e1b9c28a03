// `authentication_logs` grows with every sign-in attempt; regulation only ever reads the last find_time + ban_time
// of it. The pruner deletes what is older than the retention, at start and then every hour, in small batches, on
// one replica at a time (storage's advisory lock), and never fails anything but itself: an error is logged and the
// next round tries again.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { reasonOf } from '../observability/outages.js';
import type { Storage } from '../storage/storage.js';

/**
 * Without `storage.authentication_log.retention`, attempts are kept at least this long, for an operator looking into
 * what happened (as an audit trail), even when regulation needs much less.
 */
export const AUTHENTICATION_LOG_MIN_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/**
 * How long attempts are kept: `storage.authentication_log.retention` when set (validation refuses one shorter than
 * find_time + ban_time while regulation is on), else the audit floor, or longer when regulation looks further back.
 */
export function authenticationLogRetentionSeconds(config: Pick<Config, 'regulation' | 'storage'>): number {
  const { regulation } = config;
  const needed = regulation.max_retries > 0 ? regulation.find_time + regulation.ban_time : 0;
  const configured = config.storage.authentication_log.retention;
  // Never below what regulation reads, even for a configuration that skipped validation.
  if (configured !== undefined) return Math.max(configured, needed);
  return Math.max(AUTHENTICATION_LOG_MIN_RETENTION_SECONDS, regulation.find_time + regulation.ban_time);
}

export interface LogPrunerOptions {
  retentionSeconds: number;
  /** Between rounds; default one hour. */
  everyMs?: number;
  /** Rows per delete (one short transaction each); default 1000. */
  batchSize?: number;
  /** Batches per round at most, so a huge backlog is worked off over several rounds; default 100. */
  maxBatches?: number;
  now?: () => number;
}

export class AuthenticationLogPruner {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly storage: Pick<Storage, 'pruneAuthenticationLogs'>,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly options: LogPrunerOptions,
  ) {}

  /** Runs a round now, then every `everyMs`; the timer does not keep the process alive. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.options.everyMs ?? 60 * 60 * 1000);
    this.#timer.unref();
    void this.runOnce();
  }

  /**
   * One round: batches until fewer than a batch were old enough, another replica holds the lock, or the round's
   * batch limit. Never rejects (errors are logged); a round still running is joined, not doubled.
   */
  runOnce(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#running ??= this.#round().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Stops the timer and waits for a round in progress, so storage can be closed after it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #round(): Promise<void> {
    const { retentionSeconds, batchSize = 1000, maxBatches = 100, now = Date.now } = this.options;
    const olderThan = new Date(now() - retentionSeconds * 1000);
    let removed = 0;
    try {
      for (let batch = 0; batch < maxBatches && !this.#stopped; batch++) {
        const count = await this.storage.pruneAuthenticationLogs(olderThan, batchSize);
        if (count === undefined) {
          this.logger.debug('authentication log pruning skipped: another replica is pruning');
          break;
        }
        removed += count;
        if (count < batchSize) break;
      }
    } catch (error) {
      // No stack: a storage outage is already told by the outage log; this only says the round was cut short.
      this.logger.warn(
        { reason: reasonOf(error), removed },
        'authentication log pruning failed: tried again at the next round',
      );
      return;
    }
    if (removed > 0) this.logger.info({ removed, olderThan: olderThan.toISOString() }, 'authentication log pruned');
  }
}
