// pino JSON lines (or a plain text line per entry with `log.format: text`); secrets are redacted by path as a
// second line of defence: no code logs them on purpose.
import { pino, type Logger, type DestinationStream } from 'pino';
import type { Config } from '../config/schema.js';
import { secretRedactPaths } from '../config/reference.js';

// The configuration's secrets come from the schema (`secret: true`); tokens and credential headers are not keys.
const REDACT = [
  ...secretRedactPaths(),
  'token',
  '*.token',
  'headers.cookie',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
];

/** `time LEVEL msg key=value ...` for operators who read logs in a terminal. */
function textDestination(out: NodeJS.WritableStream): DestinationStream {
  const names: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return {
    write(line: string) {
      const { time, level, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(
        `${new Date(time as number).toISOString()} ${names[level as number] ?? level} ${msg ?? ''}${fields ? ` ${fields}` : ''}\n`,
      );
    },
  };
}

/** Every Gatehouse logger's options (the front worker's too: its lines are written by the main thread's logger). */
export function loggerOptions(level: string) {
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'gatehouse' },
  };
}

export function createLogger(config: Config['log'], out: NodeJS.WritableStream = process.stdout): Logger {
  const options = loggerOptions(config.level);
  return config.format === 'text' ? pino(options, textDestination(out)) : pino(options, out as DestinationStream);
}
