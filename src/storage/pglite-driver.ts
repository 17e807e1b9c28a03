// SqlDriver over embedded PGlite (PostgreSQL compiled to WebAssembly), persisted in a directory.
// For ONE replica only: PGlite is a single-process database; two processes opening the same directory would
// corrupt it, and replicas that do not share it would disagree on bans and keys. Use PostgreSQL for several.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { surfaceAsUnavailable, type SqlDriver, type SqlExecutor } from './sql-driver.js';
import { StorageUnavailableError } from '../observability/backend-errors.js';
import { describeEmbeddedError } from './causes.js';

const IN_MEMORY = 'memory://';

function executor(db: PGlite | Transaction): SqlExecutor {
  return {
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      surfaceAsUnavailable(async () => (await db.query<T>(sql, params as unknown[])).rows),
    exec: (sql: string) => surfaceAsUnavailable(async () => void (await db.exec(sql))),
  };
}

/** `path` is a directory (created with its parents when missing), or `memory://` for a throw-away database. */
export async function createPgliteDriver(path: string): Promise<SqlDriver> {
  const inMemory = path.startsWith(IN_MEMORY);
  const db = await surfaceAsUnavailable(
    async () => {
      const dataDir = inMemory ? path : resolve(path);
      if (!inMemory) await mkdir(dataDir, { recursive: true });
      return PGlite.create(dataDir);
    },
    (error) => describeEmbeddedError(error, path),
  );
  return {
    kind: 'embedded',
    schema: 'public',
    ...executor(db),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      // The work's own errors pass through as thrown (its queries already surface as unavailable); only
      // BEGIN/COMMIT failures are wrapped here, as the pg driver does.
      let workError: { error: unknown } | undefined;
      try {
        return await db.transaction((tx) =>
          work(executor(tx)).catch((error: unknown) => {
            workError = { error };
            throw error;
          }),
        );
      } catch (error) {
        if (workError) throw workError.error;
        throw new StorageUnavailableError(error);
      }
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
