// A real PostgreSQL for integration tests, in a schema of its own per call (dropped by cleanup()).
// Where it comes from, first that answers: GATEHOUSE_TEST_POSTGRES_URL, the local service on 127.0.0.1:5432,
// else a throw-away testcontainers PostgreSQL when Docker answers (loaded only then).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { configSchema } from '../../src/config/schema.js';
import type { PostgresConfig } from '../../src/storage/pg-driver.js';

export interface PostgresTestTarget {
  /** The server and database (not the schema), e.g. postgres://postgres@127.0.0.1:5432/test. */
  url: string;
  /** A complete parsed `storage.postgres` section using this run's own schema. */
  config: PostgresConfig;
  /** Drops the schema (CASCADE); stops the container once no target uses it. */
  cleanup(): Promise<void>;
}

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PROBE_TIMEOUT_MS = 2000;

interface Server {
  url: string;
  release(): Promise<void>;
}

let server: Promise<Server> | undefined;
let users = 0;

export async function postgresTestTarget(): Promise<PostgresTestTarget> {
  server ??= findServer();
  const { url, release } = await server;
  users += 1;
  const schema = `gh_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    url,
    config: configFromUrl(url, schema),
    async cleanup() {
      await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      users -= 1;
      if (users === 0) {
        server = undefined;
        await release();
      }
    },
  };
}

/** The `storage.postgres` section for `url`, parsed by the real configuration schema (defaults included). */
export function configFromUrl(url: string, schema: string): PostgresConfig {
  const parsed = new URL(url);
  // Only the `storage.postgres` sub-schema: whole-config rules are not this helper's business.
  return configSchema.shape.storage
    .unwrap()
    .shape.postgres.unwrap()
    .parse({
      address: `tcp://${parsed.host}`,
      database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
      schema,
      username: decodeURIComponent(parsed.username) || 'postgres',
      password: decodeURIComponent(parsed.password),
      timeout: '5s',
    });
}

async function findServer(): Promise<Server> {
  const configured = process.env.GATEHOUSE_TEST_POSTGRES_URL;
  if (configured) return { url: configured, release: async () => undefined };
  if (await answers(LOCAL_URL)) return { url: LOCAL_URL, release: async () => undefined };
  return startContainer();
}

async function startContainer(): Promise<Server> {
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine').start();
    return { url: container.getConnectionUri(), release: async () => void (await container.stop()) };
  } catch (error) {
    throw new Error(
      `no PostgreSQL for tests: set GATEHOUSE_TEST_POSTGRES_URL, run one on 127.0.0.1:5432, or start Docker`,
      {
        cause: error,
      },
    );
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
