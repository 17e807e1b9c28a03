// Picks the notifier the configuration asks for (SPEC §3 `notifier`): SMTP, else the filesystem.
import type { Logger } from 'pino';
import { DEFAULT_NOTIFICATION_FILE, type Config } from '../config/schema.js';
import { FilesystemNotifier } from './filesystem-notifier.js';
import { DEFAULT_SUBJECT_TEMPLATE, type Notifier } from './notifier.js';
import { parseSmtpAddress, SmtpNotifier } from './smtp-notifier.js';

export function createNotifier(config: Config['notifier'], logger: Logger): Notifier {
  const notifier = chooseNotifier(config, logger);
  if (!config.disable_startup_check) return notifier;
  return { send: (message) => notifier.send(message), startupCheck: async () => {}, close: () => notifier.close() };
}

function chooseNotifier(config: Config['notifier'], logger: Logger): Notifier {
  if (config.smtp) {
    const { scheme, host, port } = parseSmtpAddress(config.smtp.address);
    if (scheme === 'smtp' && config.smtp.username !== '') {
      // smtp:// upgrades only when the server offers STARTTLS; someone on the path can remove the offer.
      logger.warn(
        { host, port },
        'notifier.smtp uses smtp:// with a password: it is sent in clear if the server does not offer STARTTLS; prefer submission:// or submissions://',
      );
    }
    if (config.smtp.tls?.skip_verify)
      logger.warn("notifier.smtp.tls.skip_verify is on: the mail server's certificate is not checked");
    logger.info({ scheme, host, port }, 'notifier: SMTP');
    return new SmtpNotifier(config.smtp);
  }
  // loadConfig fills in the filesystem notifier when none is configured; this covers callers that build the
  // configuration otherwise.
  const filename = config.filesystem?.filename ?? DEFAULT_NOTIFICATION_FILE;
  if (!config.filesystem)
    logger.warn({ filename }, 'no notifier configured: messages (identity links included) are written to a file');
  else logger.info({ filename }, 'notifier: filesystem');
  return new FilesystemNotifier({ filename, subjectTemplate: DEFAULT_SUBJECT_TEMPLATE });
}
