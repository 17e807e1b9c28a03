// One identity email per user per interval, across every replica: the slot is a lock in the session store (SET NX
// with the interval as its TTL, the same shared lock the password check uses), so a double click, a script or a
// load balancer spreading requests cannot flood the user's inbox.
import { randomUUID } from 'node:crypto';
import type { AttemptLocks } from '../users/password-check.js';

/** A claimed slot: given back when the email could not be sent, so the user may try again at once. */
export interface MailSlot {
  release(): Promise<void>;
}

export class MailThrottle {
  constructor(
    private readonly locks: AttemptLocks,
    readonly intervalSeconds: number,
  ) {}

  /**
   * The user's slot, or undefined while an email sent less than the interval ago holds it. Rejects with
   * SessionStoreUnavailableError when the store cannot answer: the caller fails closed (503), it never mails
   * unthrottled.
   */
  async claim(username: string): Promise<MailSlot | undefined> {
    const name = `identity-mail:${username}`;
    // A random owner per claim: a late release can only free this claim's own slot, never a newer one.
    const owner = randomUUID();
    if (!(await this.locks.tryLock(name, owner, this.intervalSeconds))) return undefined;
    return {
      // When the store cannot answer, the slot stays taken until its TTL: at worst the user waits one interval.
      release: () => this.locks.unlock(name, owner).catch(() => undefined),
    };
  }
}
