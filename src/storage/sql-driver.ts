// The few SQL operations the Storage implementation needs, so PostgreSQL (pg) and embedded PGlite run the
// same queries through the same code. Every failure a driver reports is a StorageUnavailableError: callers
// must answer 5xx, never treat a broken database as "no such session/user/attempt".
import { StorageUnavailableError } from '../observability/backend-errors.js';

export interface SqlExecutor {
  /** One parameterised statement; resolves the rows. */
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  readonly kind: 'postgres' | 'embedded';
  /** The schema every statement runs in (tables are created there by migrations). */
  readonly schema: string;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Rejections from a driver keep the database's own error as `cause`, with its SQLSTATE; `describe` names the cause
 * in the message (the driver knows the host, database, path).
 */
export async function surfaceAsUnavailable<T>(
  operation: () => Promise<T>,
  describe?: (error: unknown) => string,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw error instanceof StorageUnavailableError ? error : new StorageUnavailableError(error, describe?.(error));
  }
}

/** The SQLSTATE behind a driver error (e.g. '23505' for a unique violation), if any. */
export function sqlState(error: unknown): string | undefined {
  const cause = error instanceof StorageUnavailableError ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';

/** Quotes an SQL identifier (the schema name comes from configuration, validated there, quoted anyway). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
