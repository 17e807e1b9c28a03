// Picks the storage back end from configuration: PostgreSQL when `storage.postgres` is set (any number of
// replicas), else embedded PGlite under `storage.local.path` (a single replica only). Opening applies nothing:
// the caller decides when to migrate.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { SqlStorage } from './sql-storage.js';
import type { Storage } from './storage.js';
import type { SqlDriver } from './sql-driver.js';

/** Where the data is; the rest of `storage` (the log's retention) is for its users, not for opening it. */
type StorageLocation = Pick<Config['storage'], 'postgres' | 'local'>;

export async function openStorage(config: StorageLocation, logger?: Logger): Promise<Storage> {
  return new SqlStorage(await openSqlDriver(config, logger));
}

/** The SQL driver itself, for maintenance commands that need transactions across several tables (key import). */
export async function openSqlDriver(config: StorageLocation, logger?: Logger): Promise<SqlDriver> {
  // Imported on demand: PostgreSQL deployments never load the WebAssembly database, and vice versa.
  if (config.postgres) {
    const { createPostgresDriver } = await import('./pg-driver.js');
    return createPostgresDriver(config.postgres, logger);
  }
  const { createPgliteDriver } = await import('./pglite-driver.js');
  return createPgliteDriver(config.local.path);
}
