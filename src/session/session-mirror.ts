// A copy, in another thread, of the sessions the session cache may answer for alone (docs/design/authz-isolate.md,
// step 1). The owner's cache is watched (`SessionCache.watch`) and every change is sent, in order, with beats in
// between (mirror-feed.ts); the mirror replays them. It answers only while the owner's beats arrive: a silent owner
// may be blocked and not reading Redis's invalidations, and silence is never taken for "nothing changed". Only a
// beat counts: a change can be posted by an owner just back from a block, before it has read those invalidations.
import type { CookieSettings } from '../config/cookies.js';
import { isSessionAlive } from './lifetime.js';
import type { SessionData } from './model.js';
import type { FreshChange } from './session-cache.js';

/**
 * What the owner sends: the cache's changes in order, and a beat when there is nothing to say. A beat carries when
 * it was sent (`monotonicMs`): silence is counted from then, so a mirror that reads its messages late (its thread
 * busy, or the port backed up) does not stretch the owner's word past `maxSilenceMs`.
 */
export type MirrorMessage = FreshChange | { kind: 'beat'; at: number };

/**
 * Milliseconds of the system's monotonic clock, the same in every thread of the process (`performance.now()` counts
 * from each thread's own start, so the owner's and the mirror's would not compare).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface MirrorOptions {
  /** Longer than this since the owner sent its last beat (ms, monotonic): nothing is answered from the mirror. */
  maxSilenceMs: number;
}

export class SessionMirror {
  readonly #options: MirrorOptions;
  readonly #clock: () => number;
  readonly #byId = new Map<string, Readonly<SessionData>>();
  /** When the owner sent its last beat (monotonic ms); none yet: nothing is answered. */
  #beatAt = Number.NEGATIVE_INFINITY;

  /**
   * `clock`: the owner's monotonic milliseconds (`monotonicMs` across threads), for silence; session deadlines use
   * the wall clock.
   */
  constructor(options: MirrorOptions, clock: () => number) {
    this.#options = options;
    this.#clock = clock;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** One message from the owner, in the order sent. Entries are kept while the owner is silent: none is lost. */
  apply(message: MirrorMessage): void {
    switch (message.kind) {
      case 'fresh':
        this.#byId.set(message.id, message.data);
        break;
      case 'stale':
        this.#byId.delete(message.id);
        break;
      case 'none':
        this.#byId.clear();
        break;
      case 'beat':
        // Never later than now: a beat cannot vouch for time that has not passed.
        this.#beatAt = Math.min(message.at, this.#clock());
        break;
    }
  }

  /** Whether the owner's last beat was sent within `maxSilenceMs`. */
  get listening(): boolean {
    return this.#clock() - this.#beatAt <= this.#options.maxSilenceMs;
  }

  /**
   * The session `id` names when the mirror may answer for it: the owner's beats arriving, the entry fresh there,
   * and the session alive for `cookie` at `now` (wall-clock ms), checked as the owner's `peek` checks it.
   * undefined: ask the owner.
   */
  fresh(id: string, cookie: CookieSettings, now: number): Readonly<SessionData> | undefined {
    const data = this.#byId.get(id);
    if (data === undefined || !this.listening) return undefined;
    return isSessionAlive(data, cookie, now) ? data : undefined;
  }
}
