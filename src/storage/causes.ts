// Names the cause of a storage failure in words an operator can act on ("database "x" does not exist on
// db:5432"), rather than a bare "storage unavailable". The database's own error stays the `cause`.
import { isSqliteFile } from '../config/referenced-files.js';

interface ErrorFacts {
  code?: string;
  message: string;
}

function factsOf(error: unknown): ErrorFacts {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  // A host name resolving to several addresses fails as an AggregateError with an empty message.
  const inner = Array.isArray(e?.errors) ? (e.errors[0] as { message?: unknown } | undefined) : undefined;
  const message =
    typeof e?.message === 'string' && e.message !== ''
      ? e.message
      : typeof inner?.message === 'string'
        ? inner.message
        : String(error);
  return { code, message };
}

/** What went wrong talking to PostgreSQL at `host:port` as `user`, database `database`. */
export function describePostgresError(
  error: unknown,
  at: { host: string; port: number; database: string; username: string; timeoutSeconds: number },
): string {
  const { code, message } = factsOf(error);
  const where = `${at.host}:${at.port}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${where} (is PostgreSQL running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host '${at.host}' not found`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection to ${where} was reset`;
    case '3D000':
      return `database "${at.database}" does not exist on ${where}`;
    case '28P01':
    case '28000':
      return `authentication failed for user "${at.username}" on ${where}: ${message}`;
    case '42501':
      return `permission denied on ${where}: ${message}`;
    case '53300':
      return `too many connections on ${where}: ${message}`;
    case '57P01':
    case '57P02':
    case '57P03':
      return `PostgreSQL at ${where} is shutting down or starting up: ${message}`;
    default:
      break;
  }
  // pg's own timeouts carry no code, only these messages.
  if (/timeout|timed out/i.test(message))
    return `no answer from ${where} within ${at.timeoutSeconds} s (storage.postgres.timeout)`;
  if (/self[- ]signed|certificate|SSL|TLS/i.test(message)) return `TLS with ${where} failed: ${message}`;
  return `PostgreSQL at ${where}: ${message}${code ? ` (${code})` : ''}`;
}

/** What went wrong opening the embedded database in directory `path`. */
export function describeEmbeddedError(error: unknown, path: string): string {
  const { code, message } = factsOf(error);
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return isSqliteFile(path)
        ? `storage.local.path '${path}' is an SQLite database (Authelia's local storage); Gatehouse needs a directory for its embedded database`
        : `storage.local.path '${path}' is a file (or lies under one); Gatehouse needs a directory for its embedded database`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on storage.local.path '${path}'`;
    case 'EROFS':
      return `storage.local.path '${path}' is on a read-only file system`;
    case 'ENOSPC':
      return `no space left for storage.local.path '${path}'`;
    default:
      return `the embedded database in '${path}' cannot be opened: ${message}`;
  }
}
