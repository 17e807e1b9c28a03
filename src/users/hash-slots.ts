// How many password hashes this process verifies at once. An argon2id hash with Authelia's default parameters holds
// 64 MiB while it runs, and node's thread pool runs four at a time: a burst of sign-ins or Basic credentials took a
// replica's peak RSS from 120 MB to 313 MB (measured on 2 cores, eight at once). The hashes are CPU- and
// memory-bound, so more at once finishes none sooner (the same eight, one at a time: 282 ms against 539 ms), and one
// core is left to the gate: a password-guessing flood slows sign-ins, never the authz answers every app waits on. Queued attempts are served in order; beyond `maxWaiting` an
// attempt is answered busy (503, try again) rather than made to wait longer than a person or a client would.
import { availableParallelism } from 'node:os';
import { PasswordCheckBusyError } from './password-check.js';

/** Too many password checks are already waiting on this replica: the caller answers 503 "try again". */
export class HashSlotsFullError extends PasswordCheckBusyError {
  constructor() {
    super('too many password checks are waiting on this replica');
    this.name = 'HashSlotsFullError';
  }
}

/**
 * Every core but one (the gate's), at least one, at most three: hashes run on node's thread pool (four threads unless
 * UV_THREADPOOL_SIZE says otherwise), and one thread is left for file reads and DNS look-ups.
 */
export function defaultHashSlots(): number {
  return Math.max(1, Math.min(3, availableParallelism() - 1));
}

/** Attempts queued per slot before the next is answered busy: about half a second of argon2id at Authelia's defaults. */
export const WAITING_PER_SLOT = 16;

export class HashSlots {
  readonly size: number;
  readonly maxWaiting: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number = defaultHashSlots(), maxWaiting: number = size * WAITING_PER_SLOT) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`hash slots must be a positive integer, not ${size}`);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0)
      throw new RangeError(`hash slots' queue must be a whole number, not ${maxWaiting}`);
    this.size = size;
    this.maxWaiting = maxWaiting;
  }

  /** Hashes running now, and attempts waiting for a slot (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /** Runs `hash` in a slot, after those queued before it; throws PasswordCheckBusyError when the queue is full. */
  async run<T>(hash: () => Promise<T>): Promise<T> {
    if (this.#running < this.size) this.#running++;
    else {
      if (this.#waiting.length >= this.maxWaiting) throw new HashSlotsFullError();
      // The slot is handed over by the attempt that ends: `running` stays counted for this one.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await hash();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
