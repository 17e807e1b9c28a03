// Schema migrations: numbered SQL files (NNNN_name.sql) applied in order, all pending ones in one transaction,
// recorded in the `migrations` table. Replicas starting together against one PostgreSQL are serialised by an
// advisory lock taken inside that transaction, so every migration is applied exactly once, by one replica.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteIdentifier, type SqlDriver, type SqlExecutor } from './sql-driver.js';

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_initial`; recorded once applied. */
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;
/** First key of the two-key advisory lock ("Gate" in ASCII); the second is a hash of the schema name. */
const LOCK_CLASS = 0x47617465;

/**
 * `src/storage/migrations` under the package root: tsc does not copy .sql files, so the compiled code
 * (dist/src/storage) finds them by walking up to the directory holding package.json (and the migrations; a
 * stray package.json in dist/ is passed over).
 */
export function migrationsDirectory(from: string = import.meta.url): string {
  const start = dirname(fileURLToPath(from));
  for (let directory = start; ; directory = dirname(directory)) {
    const candidate = join(directory, 'src', 'storage', 'migrations');
    if (existsSync(join(directory, 'package.json')) && existsSync(candidate)) return candidate;
    if (dirname(directory) === directory) throw new Error(`no package root with src/storage/migrations above ${start}`);
  }
}

export async function loadMigrations(directory: string = migrationsDirectory()): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const seen = new Set<string>();
  const migrations: Migration[] = [];
  for (const file of files) {
    const number = MIGRATION_FILE.exec(file)?.[1];
    // A misnamed or duplicated file must stop the start, not be skipped or applied in a surprising order.
    if (number === undefined) throw new Error(`migration file '${file}' is not named NNNN_lower_case_name.sql`);
    if (seen.has(number)) throw new Error(`two migration files are numbered ${number}`);
    seen.add(number);
    migrations.push({ name: file.slice(0, -'.sql'.length), sql: await readFile(join(directory, file), 'utf8') });
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded, in order, in ONE transaction under the lock: replicas starting together
 * never split a release's migrations between them, and a failing migration leaves the schema as it was.
 * Resolves the names it applied.
 */
export async function applyMigrations(driver: SqlDriver, migrations: readonly Migration[]): Promise<string[]> {
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))', [LOCK_CLASS, driver.schema]);
    await ensureBookkeeping(tx, driver.schema);
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM migrations')).map((row) => row.name));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO migrations (name, applied_at) VALUES ($1, now())', [migration.name]);
      applied.push(migration.name);
    }
    return applied;
  });
}

/** The schema and the `migrations` table; called under the lock, so concurrent creators cannot collide. */
async function ensureBookkeeping(tx: SqlExecutor, schema: string): Promise<void> {
  // Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database.
  const exists = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (exists.length === 0) await tx.exec(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  await tx.exec(
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(schema)}.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)`,
  );
}
