// Parsed targets by the exact header texts they were read from. Reading a target (checking the URL, parsing it,
// working out the rules' resource) costs more than the rest of a warm decision together, and a proxy asks about
// the same few URLs again and again. The answer is a pure function of those texts, so a remembered one is the
// answer itself; only successful reads are kept (a refusal is cheap, and the attacker's to vary).
import type { IncomingHttpHeaders } from 'node:http';
import type { Target } from './target.js';

/** Enough for the pages and assets a small site's users are on at once. */
export const TARGET_MEMO_ENTRIES = 1024;
/**
 * Texts longer than this (in all) are read afresh every time, never remembered: an entry then holds at most a few KB
 * (the key, and the target's URL, raw text and resource, each no longer), so the memo stays within a few MB whatever
 * a client sends, where an 8 KB URL in each of 1,024 entries would hold tens of MB.
 */
export const TARGET_MEMO_MAX_KEY = 1024;

export class TargetMemo {
  readonly #maxEntries: number;
  /** Insertion order: the oldest read is the first to go (no reordering on a hit, so a hit writes nothing). */
  readonly #byKey = new Map<string, { target: Target }>();

  constructor(maxEntries = TARGET_MEMO_ENTRIES) {
    this.#maxEntries = Math.max(1, maxEntries);
  }

  /**
   * The memo key: the flavour, every header its readers look at, and the authz request's own method, each text
   * written with its length, so that no two different sets of texts (whatever they contain) make the same key;
   * undefined when the texts are not to be remembered (a list, or longer than TARGET_MEMO_MAX_KEY in all).
   */
  static keyOf(
    flavour: string,
    names: readonly string[],
    headers: IncomingHttpHeaders,
    requestMethod: string,
  ): string | undefined {
    let key = `${flavour}|${requestMethod.length}:${requestMethod}`;
    for (const name of names) {
      const value = headers[name];
      if (value === undefined) key += '|-';
      else if (typeof value === 'string') key += `|${value.length}:${value}`;
      else return undefined; // a list (never for these names): not remembered
      if (key.length > TARGET_MEMO_MAX_KEY) return undefined;
    }
    return key;
  }

  get(key: string): { target: Target } | undefined {
    return this.#byKey.get(key);
  }

  /** Remembers a successful read; the target is frozen, as every later request with the same texts shares it. */
  remember(key: string, target: Target): { target: Target } {
    const result = Object.freeze({ target: Object.freeze(target) });
    if (this.#byKey.size >= this.#maxEntries) {
      const oldest = this.#byKey.keys().next();
      if (!oldest.done) this.#byKey.delete(oldest.value);
    }
    this.#byKey.set(key, result);
    return result;
  }

  get size(): number {
    return this.#byKey.size;
  }
}
