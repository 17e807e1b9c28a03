// The front worker's sessions (docs/design/authz-isolate.md): what the authz handler asks of them to answer at once,
// answered from the mirror of the main thread's session cache. A session the mirror cannot answer for is not an
// error here: `peek` says undefined, and the handler hands the question to the main thread, which reads Redis.
import type { AtOnceSessions } from '../authz/handler.js';
import type { CookieSettings } from '../config/cookies.js';
import { firstCandidateId, SESSION_ID_LENGTH } from '../session/crypto.js';
import { isRememberMe, TOUCH_INTERVAL_MS } from '../session/lifetime.js';
import type { Session } from '../session/model.js';
import type { SessionMirror } from '../session/session-mirror.js';

/** Touches asked for and not yet old, kept at most this many (a burst of sessions at once: some asked twice). */
const MAX_ASKED = 10_000;

export class MirroredSessions implements AtOnceSessions {
  readonly #mirror: SessionMirror;
  readonly #askTouch: (id: string, domain: string) => void;
  readonly #now: () => number;
  /** When a touch was last asked for, by session: the main thread's write takes a round trip to show here. */
  readonly #asked = new Map<string, number>();

  /** `askTouch`: tells the main thread that a session's activity is due to be refreshed. */
  constructor(mirror: SessionMirror, askTouch: (id: string, domain: string) => void, now: () => number = Date.now) {
    this.#mirror = mirror;
    this.#askTouch = askTouch;
    this.#now = now;
  }

  /** As `SessionService.peek`: the session named by the first well-formed cookie value, when the mirror may answer. */
  peek(cookieValues: readonly string[], cookie: CookieSettings): Readonly<Session> | undefined {
    const now = this.#now();
    const first = cookieValues[0];
    if (first !== undefined && first.length === SESSION_ID_LENGTH) {
      const data = this.#mirror.fresh(first, cookie, now);
      if (data !== undefined) return { id: first, data };
    }
    const id = firstCandidateId(cookieValues);
    if (id === undefined || id === first) return undefined;
    const data = this.#mirror.fresh(id, cookie, now);
    return data === undefined ? undefined : { id, data };
  }

  /** As `SessionService.touchDue`, with the touches already asked for in place of the writes in flight. */
  touchDue(session: Readonly<Session>, cookie: CookieSettings): boolean {
    const now = this.#now();
    if (isRememberMe(session.data, cookie) || now - session.data.lastActivity < TOUCH_INTERVAL_MS) return false;
    const asked = this.#asked.get(session.id);
    return asked === undefined || now - asked >= TOUCH_INTERVAL_MS;
  }

  /** Asks the main thread to refresh the activity; it writes from its own cache, and the change comes back here. */
  async touch(session: Readonly<Session>, cookie: CookieSettings): Promise<void> {
    if (!this.touchDue(session, cookie)) return;
    if (this.#asked.size >= MAX_ASKED) this.#forgetOld();
    this.#asked.set(session.id, this.#now());
    this.#askTouch(session.id, cookie.domain);
  }

  #forgetOld(): void {
    const now = this.#now();
    for (const [id, at] of this.#asked) if (now - at >= TOUCH_INTERVAL_MS) this.#asked.delete(id);
    if (this.#asked.size >= MAX_ASKED) this.#asked.clear();
  }
}
