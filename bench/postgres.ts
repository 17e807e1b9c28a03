// The bench's storage: PostgreSQL in a schema of its own when one answers (BENCH_POSTGRES_URL, else
// GATEHOUSE_TEST_POSTGRES_URL, else the local service), as an operator running several replicas has it; otherwise
// the embedded database, whose WebAssembly PostgreSQL alone holds hundreds of MB resident, so the RSS figure then
// says more about PGlite than about the hot path (the table says which one ran).
import pg from 'pg';

export interface BenchStorage {
  /** The `storage` section of the configuration, given the run's own directory for the embedded fallback. */
  section(dir: string, port: number): Record<string, unknown>;
  description: string;
  /** The PostgreSQL the run uses (undefined: the embedded database). */
  url?: string;
  cleanup(): Promise<void>;
}

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function openBenchStorage(): Promise<BenchStorage> {
  const url = process.env.BENCH_POSTGRES_URL ?? process.env.GATEHOUSE_TEST_POSTGRES_URL ?? LOCAL_URL;
  if (!(await answers(url))) {
    return {
      section: (dir, port) => ({ local: { path: `${dir}/db-${port}` } }),
      description: 'embedded (PGlite: no PostgreSQL answered; its WebAssembly heap dominates the RSS figure)',
      cleanup: async () => undefined,
    };
  }
  const parsed = new URL(url);
  const schema = `gh_bench_${process.pid}`;
  const postgres = {
    address: `tcp://${parsed.host}`,
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
    schema,
    username: decodeURIComponent(parsed.username) || 'postgres',
    password: decodeURIComponent(parsed.password),
  };
  return {
    // One schema for every Gatehouse of the run, as replicas share one database.
    section: () => ({ postgres }),
    description: `PostgreSQL at ${parsed.host} (schema ${schema}, dropped afterwards)`,
    url,
    async cleanup() {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
