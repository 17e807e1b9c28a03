// Email through an SMTP server with nodemailer (SPEC §3 `notifier.smtp`, §7). The address scheme says how the
// connection is protected: smtp:// upgrades with STARTTLS when the server offers it, submission:// refuses to go
// on without STARTTLS, submissions:// speaks TLS from the first byte.
import { createTransport, type Transporter } from 'nodemailer';
import type { Config } from '../config/schema.js';
import { subjectFor, type NotificationMessage, type Notifier } from './notifier.js';
import { minimumTlsVersion } from '../config/tls.js';

export type SmtpConfig = NonNullable<Config['notifier']['smtp']>;

type Scheme = 'smtp' | 'submission' | 'submissions';

const DEFAULT_PORTS: Record<Scheme, number> = { smtp: 25, submission: 587, submissions: 465 };

export interface SmtpEndpoint {
  scheme: Scheme;
  host: string;
  port: number;
}

/** `submission://host:587` → its parts; the configuration schema has already checked the shape. */
export function parseSmtpAddress(address: string): SmtpEndpoint {
  const match = /^(smtp|submission|submissions):\/\/([^/:\s]+)(?::(\d{1,5}))?$/.exec(address);
  if (!match) throw new Error(`notifier.smtp.address: not an SMTP address: '${address}'`);
  const scheme = match[1] as Scheme;
  return { scheme, host: match[2]!, port: match[3] ? Number(match[3]) : DEFAULT_PORTS[scheme] };
}

export class SmtpNotifier implements Notifier {
  readonly #transporter: Transporter;
  readonly #sender: string;
  readonly #subject: string;

  constructor(config: SmtpConfig) {
    const endpoint = parseSmtpAddress(config.address);
    const timeoutMs = config.timeout * 1000;
    const tls = config.tls;
    this.#sender = config.sender;
    this.#subject = config.subject;
    this.#transporter = createTransport({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.scheme === 'submissions',
      // submission:// must never fall back to plaintext (a stripped STARTTLS would expose the password and links).
      requireTLS: endpoint.scheme === 'submission',
      opportunisticTLS: false,
      name: config.identifier,
      auth: config.username === '' ? undefined : { user: config.username, pass: config.password },
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      // The certificate is verified against server_name when set (e.g. connecting by IP), else the host.
      servername: tls?.server_name || undefined,
      tls: {
        rejectUnauthorized: !(tls?.skip_verify ?? false),
        minVersion: minimumTlsVersion(tls),
      },
      // nodemailer's own logging would include message contents (identity links): never enabled.
      logger: false,
      debug: false,
    });
  }

  async send(message: NotificationMessage): Promise<void> {
    await this.#transporter.sendMail({
      from: this.#sender,
      to: { name: message.toName, address: message.to },
      subject: subjectFor(this.#subject, message.title),
      text: message.text,
      html: message.html,
    });
  }

  async startupCheck(): Promise<void> {
    await this.#transporter.verify();
  }

  async close(): Promise<void> {
    this.#transporter.close();
  }
}
