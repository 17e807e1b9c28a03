// The filesystem notifier (SPEC §7): each message is appended to one file as a header block and the plain-text
// body, so a single-host setup or a test can read the identity link without a mail server.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { oneLine, subjectFor, type NotificationMessage, type Notifier } from './notifier.js';

/** Ends every message in the file; readers split on it (test/helpers/mail.ts). */
export const MESSAGE_SEPARATOR = '-'.repeat(72);

export interface FilesystemNotifierOptions {
  filename: string;
  subjectTemplate: string;
  now?: () => Date;
}

export class FilesystemNotifier implements Notifier {
  readonly #filename: string;
  readonly #subjectTemplate: string;
  readonly #now: () => Date;
  /** Appends run one after another: two messages sent at once must never interleave in the file. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: FilesystemNotifierOptions) {
    this.#filename = options.filename;
    this.#subjectTemplate = options.subjectTemplate;
    this.#now = options.now ?? (() => new Date());
  }

  send(message: NotificationMessage): Promise<void> {
    const block = formatMessage(message, subjectFor(this.#subjectTemplate, message.title), this.#now());
    // One write of the whole block (O_APPEND), so even another process appending to the same file stays apart.
    return this.#append(block);
  }

  /** The file must be writable: create its directory and open it for appending without writing anything. */
  startupCheck(): Promise<void> {
    return this.#append('');
  }

  async close(): Promise<void> {
    await this.#queue;
  }

  #append(text: string): Promise<void> {
    const run = this.#queue.then(async () => {
      await mkdir(dirname(this.#filename), { recursive: true });
      await appendFile(this.#filename, text, { encoding: 'utf8', mode: 0o600 });
    });
    // A failed append is reported to its sender only; the queue goes on.
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function formatMessage(message: NotificationMessage, subject: string, date: Date): string {
  const body = message.text.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  return [
    `Date: ${date.toUTCString()}`,
    `Recipient: ${oneLine(message.toName)} <${oneLine(message.to)}>`,
    `Subject: ${oneLine(subject)}`,
    '',
    body,
    MESSAGE_SEPARATOR,
    '',
  ].join('\n');
}
