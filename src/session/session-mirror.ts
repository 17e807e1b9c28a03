// A copy, in another thread, of the sessions the session cache may answer for alone (docs/design/authz-isolate.md,
// step 1). The owner's cache is watched (`SessionCache.watch`) and every change is sent, in order, with beats in
// between (mirror-feed.ts); the mirror replays them. It answers only while the owner's beats arrive: a silent owner
// may be blocked and not reading Redis's invalidations, and silence is never taken for "nothing changed". Only a
// beat counts: a change can be posted by an owner just back from a block, before it has read those invalidations.
import type { CookieSettings } from '../config/cookies.js';
import { isSessionAlive } from './lifetime.js';
import type { SessionData } from './model.js';
import type { FreshChange } from './session-cache.js';

/** What the owner sends: the cache's changes in order, and a beat when there is nothing to say. */
export type MirrorMessage = FreshChange | { kind: 'beat' };

export interface MirrorOptions {
  /** Longer than this since the owner's last message (ms, monotonic): nothing is answered from the mirror. */
  maxSilenceMs: number;
}

export class SessionMirror {
  readonly #options: MirrorOptions;
  readonly #clock: () => number;
  readonly #byId = new Map<string, Readonly<SessionData>>();
  /** When the owner's last beat arrived (monotonic ms); none yet: nothing is answered. */
  #beatAt = Number.NEGATIVE_INFINITY;

  /** `clock`: monotonic milliseconds (performance.now), for silence; session deadlines use the wall clock. */
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
        this.#beatAt = this.#clock();
        break;
    }
  }

  /** Whether the owner's last beat arrived within `maxSilenceMs`. */
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
