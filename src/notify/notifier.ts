// The Notifier port (SPEC §7): how Gatehouse tells a user something by email (or, for tests and small setups, by
// appending to a file). Messages are made by notify/templates.ts; adapters only deliver them.

export interface NotificationMessage {
  /** The recipient's address. */
  to: string;
  /** The recipient's display name. */
  toName: string;
  /** What the message is about; the subject is made from it with the subject template. */
  title: string;
  /** The plain-text part. */
  text: string;
  /** The HTML part. */
  html: string;
}

export interface Notifier {
  send(message: NotificationMessage): Promise<void>;
  /** Rejects when the notifier cannot deliver (SMTP server unreachable or refusing us, file not writable). */
  startupCheck(): Promise<void>;
  close(): Promise<void>;
}

/** `notifier.smtp.subject`'s default; the filesystem notifier uses it too, so its file shows what SMTP would send. */
export const DEFAULT_SUBJECT_TEMPLATE = '[Gatehouse] {title}';

/** The subject line: the template with every `{title}` replaced by the message's title. */
export function subjectFor(template: string, title: string): string {
  return template.split('{title}').join(title);
}

/** A value on one line: a name or title must not be able to forge another header line or line of a text part. */
export function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}
