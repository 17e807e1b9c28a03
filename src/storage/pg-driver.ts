// SqlDriver over a `pg` connection pool. Broken connections are dropped from the pool and replaced on the next
// use, so the driver recovers by itself when PostgreSQL comes back; until then every call rejects with
// StorageUnavailableError.
import pg from 'pg';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { surfaceAsUnavailable, type SqlDriver, type SqlExecutor } from './sql-driver.js';
import { minimumTlsVersion } from '../config/tls.js';
import { describePostgresError } from './causes.js';

export type PostgresConfig = NonNullable<Config['storage']['postgres']>;

/**
 * Transactions (migrations, key imports: start-up and maintenance, never a request) may wait on the migration lock
 * and run DDL: they get at least this long. Every other query is bounded by `storage.postgres.timeout`, so a hung
 * database answers a request 503 within that time.
 */
const MIN_TRANSACTION_QUERY_TIMEOUT_MS = 30_000;
/** pg reads 0 as "wait forever", and a few milliseconds would fail every connection: neither is meant. */
const MIN_CONNECT_TIMEOUT_MS = 1_000;

function poolOptions(config: PostgresConfig): pg.PoolConfig {
  const timeoutMs = Math.max(MIN_CONNECT_TIMEOUT_MS, Math.round(config.timeout * 1000));
  return {
    host: config.address.host,
    port: config.address.port,
    database: config.database,
    user: config.username,
    password: config.password,
    // Set at connection start-up, so every pooled connection (new or replaced) works in the configured schema.
    // The schema name is restricted to [a-z0-9_] by the configuration schema, so it needs no escaping here.
    options: `-c search_path=${config.schema}`,
    application_name: 'gatehouse',
    // Bounds both opening a connection and waiting for a free one: an exhausted pool answers an error, not a hang.
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
    ssl: tlsOptions(config.tls),
  };
}

function tlsOptions(tls: PostgresConfig['tls']): ConnectionOptions | false {
  if (!tls) return false;
  return {
    rejectUnauthorized: !tls.skip_verify,
    // pg overwrites `servername` with the address host when that is a name, so the certificate is checked against
    // server_name here explicitly (SNI still carries the address host).
    ...(tls.server_name
      ? {
          servername: tls.server_name,
          checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(tls.server_name, cert),
        }
      : {}),
    minVersion: minimumTlsVersion(tls),
  };
}

/** pg reads `query_timeout` from a query's config too; its types do not say so. */
function statement(text: string, values: unknown[] | undefined, queryTimeoutMs: number | undefined): pg.QueryConfig {
  return { text, values, ...(queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs }) } as pg.QueryConfig;
}

/** `queryTimeoutMs`: per statement, overriding the pool's (undefined: the pool's `storage.postgres.timeout`). */
function executor(
  client: pg.Pool | pg.PoolClient,
  describe: (error: unknown) => string,
  queryTimeoutMs?: number,
): SqlExecutor {
  return {
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      surfaceAsUnavailable(
        async () => (await client.query(statement(sql, params as unknown[], queryTimeoutMs))).rows as T[],
        describe,
      ),
    exec: (sql: string) =>
      surfaceAsUnavailable(async () => void (await client.query(statement(sql, undefined, queryTimeoutMs))), describe),
  };
}

export function createPostgresDriver(config: PostgresConfig, logger?: Logger): SqlDriver {
  const pool = new pg.Pool(poolOptions(config));
  const poolTimeoutMs = poolOptions(config).connectionTimeoutMillis!;
  const describe = (error: unknown) =>
    describePostgresError(error, {
      host: config.address.host,
      port: config.address.port,
      database: config.database,
      username: config.username,
      timeoutSeconds: config.timeout,
    });
  // Without a listener, an idle connection dropped by the server (restart, failover) would crash the process.
  // One line, no stack: a restart drops every idle connection at once.
  pool.on('error', (error) =>
    logger?.warn({ reason: describe(error) }, 'postgres connection lost; it will be replaced'),
  );
  const poolExecutor = executor(pool, describe);

  return {
    kind: 'postgres',
    schema: config.schema,
    ...poolExecutor,
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await surfaceAsUnavailable(() => pool.connect(), describe);
      // A checked-out client has no pool listener: keep a connection loss during the transaction from crashing.
      let lost: Error | undefined;
      const onError = (error: Error) => (lost = error);
      client.on('error', onError);
      const tx = executor(client, describe, Math.max(MIN_TRANSACTION_QUERY_TIMEOUT_MS, poolTimeoutMs));
      try {
        await tx.exec('BEGIN');
        const result = await work(tx);
        await tx.exec('COMMIT');
        client.removeListener('error', onError);
        client.release();
        return result;
      } catch (error) {
        await tx.exec('ROLLBACK').catch(() => undefined);
        client.removeListener('error', onError);
        // Never hand a connection in an unknown state back to the pool.
        client.release(lost ?? (error instanceof Error ? error : new Error(String(error))));
        throw error;
      }
    },
    async close() {
      await pool.end();
    },
  };
}
