// The rules' decisions remembered by what they were decided from: the target (a frozen object shared by every
// request with the same header texts, target-memo.ts), the client address, and the user record. The rules are
// compiled once and are a pure function of these, so a remembered decision is the decision. A user record is a
// frozen snapshot (a reload or a directory refresh makes a new one), so a changed user is a new key; a record that is
// not frozen is never remembered, and the username and the groups list are still compared on every hit.
import type { AccessDecision } from './rules-request.js';
import type { Target } from './target.js';

interface Subject {
  readonly username: string;
  readonly groups: readonly string[];
}

interface Remembered {
  readonly decision: AccessDecision;
  readonly username: string | undefined;
  readonly groups: readonly string[] | undefined;
}

/** Stands for "nobody signed in" as a WeakMap key. */
const ANONYMOUS: object = Object.freeze({});

/**
 * Decisions held at once, in all: past it the memo starts afresh (a site's users and pages fit well within it;
 * each is a few dozen bytes plus the client address).
 */
export const DECISION_MEMO_ENTRIES = 4096;

export class DecisionMemo {
  readonly #maxEntries: number;
  #byTarget = new WeakMap<Target, Map<string, WeakMap<object, Remembered>>>();
  #entries = 0;

  constructor(maxEntries = DECISION_MEMO_ENTRIES) {
    this.#maxEntries = Math.max(1, maxEntries);
  }

  get(target: Target, ip: string | undefined, subject: Subject | undefined): AccessDecision | undefined {
    const found = this.#byTarget
      .get(target)
      ?.get(ip ?? '')
      ?.get(subject ?? ANONYMOUS);
    if (found === undefined) return undefined;
    if (found.username !== subject?.username || found.groups !== subject?.groups) return undefined;
    return found.decision;
  }

  /** Remembers a decision; not for a user record that could change in place (not frozen, or its groups not). */
  remember(target: Target, ip: string | undefined, subject: Subject | undefined, decision: AccessDecision): void {
    if (subject !== undefined && !(Object.isFrozen(subject) && Object.isFrozen(subject.groups))) return;
    if (this.#entries >= this.#maxEntries) {
      this.#byTarget = new WeakMap();
      this.#entries = 0;
    }
    let byAddress = this.#byTarget.get(target);
    if (byAddress === undefined) {
      byAddress = new Map();
      this.#byTarget.set(target, byAddress);
    }
    // An address is never '' (target.ts clientAddress), so '' may stand for "unknown".
    const key = ip ?? '';
    let bySubject = byAddress.get(key);
    if (bySubject === undefined) {
      bySubject = new WeakMap();
      byAddress.set(key, bySubject);
    }
    bySubject.set(subject ?? ANONYMOUS, {
      decision,
      username: subject?.username,
      groups: subject?.groups,
    });
    this.#entries++;
  }
}
