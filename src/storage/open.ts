// Picks the storage back end from configuration: PostgreSQL when `storage.postgres` is set (any number of
// replicas), else embedded PGlite under `storage.local.path` (a single replica only). Opening applies nothing:
// the caller decides when to migrate.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { SqlStorage } from './sql-storage.js';
import type { Storage } from './storage.js';

export async function openStorage(config: Config['storage'], logger?: Logger): Promise<Storage> {
  // Imported on demand: PostgreSQL deployments never load the WebAssembly database, and vice versa.
  if (config.postgres) {
    const { createPostgresDriver } = await import('./pg-driver.js');
    return new SqlStorage(createPostgresDriver(config.postgres, logger));
  }
  const { createPgliteDriver } = await import('./pglite-driver.js');
  return new SqlStorage(await createPgliteDriver(config.local.path));
}
