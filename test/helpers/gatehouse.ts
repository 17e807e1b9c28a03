// Starts a real Gatehouse for tests, wired by the composition root exactly as `gatehouse serve` does, against the
// real Redis and PostgreSQL (or the embedded defaults), with a users file of its own in a temporary directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino, type Logger } from 'pino';
import { loadConfig, type LoadedConfig } from '../../src/config/index.js';
import { createGatehouse, type Gatehouse } from '../../src/main.js';
import { hashPassword } from '../../src/users/hashing.js';
import { redisTestTarget, type RedisTestTarget } from './redis.js';
import { postgresTestTarget, type PostgresTestTarget } from './postgres.js';

export const PASSWORD = 'correct horse battery staple';

/** Cheap argon2id parameters: the tests verify many passwords. */
const TEST_ARGON2 = {
  variant: 'argon2id' as const,
  iterations: 1,
  memory: 1024,
  parallelism: 1,
  key_length: 32,
  salt_length: 16,
};

export interface TestUser {
  displayname?: string;
  email?: string;
  groups?: string[];
  disabled?: boolean;
  password?: string;
}

export const DEFAULT_USERS: Record<string, TestUser> = {
  john: { displayname: 'John Doe', email: 'john.doe@example.com', groups: ['admins', 'dev'] },
  harry: { displayname: 'Harry Potter', email: 'harry@example.com', groups: ['dev'] },
  bob: { displayname: 'Bob Dylan', email: 'bob@example.com', groups: ['dev'], disabled: true },
};

/** The rules most tests use: one per policy, plus subject, network and resource rules. */
export const DEFAULT_ACCESS_CONTROL = {
  default_policy: 'deny',
  networks: [{ name: 'internal', networks: ['10.0.0.0/8'] }],
  rules: [
    { domain: 'public.example.com', policy: 'bypass' },
    { domain: 'internal.example.com', networks: ['internal'], policy: 'bypass' },
    { domain: 'secure.example.com', policy: 'two_factor' },
    { domain: 'admin.example.com', subject: ['group:admins'], policy: 'one_factor' },
    { domain: 'app.example.com', resources: ['^/forbidden([/?].*)?$'], policy: 'deny' },
    { domain: ['app.example.com', '*.apps.example.com'], policy: 'one_factor' },
    { domain: 'app.example.org', policy: 'one_factor' },
  ],
};

export interface StartOptions {
  storage?: 'postgres' | 'embedded';
  sessions?: 'redis' | 'memory';
  /** Deep-merged over the default test configuration. */
  config?: Record<string, unknown>;
  users?: Record<string, TestUser>;
  /** Reuse Redis/PostgreSQL targets (e.g. several replicas on one database). */
  redis?: RedisTestTarget;
  postgres?: PostgresTestTarget;
  /** Where Gatehouse logs (default: silent, or GATEHOUSE_TEST_LOG_LEVEL). */
  logger?: Logger;
  /** Told when the authz front worker stops unasked (default: the process exits, as in production). */
  onFatal?: (error: Error) => void;
  /** The front worker's watchdog (default: pinged every second, hung after 10 s). */
  frontWatchdog?: { everyMs: number; hungAfterMs: number };
}

export interface TestGatehouse {
  url: string;
  gatehouse: Gatehouse;
  loaded: LoadedConfig;
  dir: string;
  configPath: string;
  usersPath: string;
  redis?: RedisTestTarget;
  postgres?: PostgresTestTarget;
  writeUsers(users: Record<string, TestUser>): Promise<void>;
  close(): Promise<void>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

export async function usersYaml(users: Record<string, TestUser>): Promise<string> {
  const entries: Record<string, unknown> = {};
  for (const [name, user] of Object.entries(users)) {
    entries[name] = {
      displayname: user.displayname ?? name,
      password: await hashPassword(user.password ?? PASSWORD, TEST_ARGON2),
      email: user.email ?? `${name}@example.com`,
      groups: user.groups ?? [],
      disabled: user.disabled ?? false,
    };
  }
  return stringify({ users: entries });
}

/** The test configuration as YAML data, with the given back ends. */
export async function testConfig(
  options: StartOptions & { dir: string; usersPath: string },
): Promise<{ raw: Record<string, unknown>; redis?: RedisTestTarget; postgres?: PostgresTestTarget }> {
  const redis = options.sessions === 'redis' ? (options.redis ?? (await redisTestTarget())) : undefined;
  const postgres = options.storage === 'postgres' ? (options.postgres ?? (await postgresTestTarget())) : undefined;
  let raw: Record<string, unknown> = {
    server: { address: 'tcp://127.0.0.1:0' },
    log: { level: 'warn' },
    authentication_backend: { file: { path: options.usersPath, watch: false } },
    identity_validation: { jwt_secret: 'a-test-jwt-secret-that-is-long-enough-for-hs256' },
    session: {
      secret: 'a-test-session-secret-of-at-least-32-chars',
      cookies: [
        {
          domain: 'example.com',
          authelia_url: 'https://auth.example.com',
          default_redirection_url: 'https://www.example.com',
        },
        { domain: 'example.org', authelia_url: 'https://login.example.org' },
      ],
    },
    storage: { local: { path: 'memory://' } },
    notifier: { filesystem: { filename: join(options.dir, 'notification.txt') } },
    regulation: { max_retries: 3, find_time: '2m', ban_time: '5m' },
    access_control: DEFAULT_ACCESS_CONTROL,
  };
  if (redis) {
    const r = redis.config;
    raw = deepMerge(raw, {
      session: {
        redis: {
          host: r.host,
          port: r.port,
          database_index: r.database_index,
          key_prefix: r.key_prefix,
          ...(r.password ? { password: r.password } : {}),
        },
      },
    });
  }
  if (postgres) {
    const p = postgres.config;
    raw = deepMerge(raw, {
      storage: {
        postgres: {
          address: `tcp://${p.address.host}:${p.address.port}`,
          database: p.database,
          schema: p.schema,
          username: p.username,
          password: p.password,
        },
      },
    });
  }
  const merged = options.config ? deepMerge(raw, options.config) : raw;
  // An LDAP backend replaces the users file (naming both is refused).
  const backend = merged.authentication_backend as Record<string, unknown>;
  if (backend.ldap !== undefined) merged.authentication_backend = { ...backend, file: undefined };
  return { raw: merged, redis, postgres };
}

export async function startGatehouse(options: StartOptions = {}): Promise<TestGatehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const usersPath = join(dir, 'users_database.yml');
  const configPath = join(dir, 'configuration.yml');
  writeFileSync(usersPath, await usersYaml(options.users ?? DEFAULT_USERS));
  const { raw, redis, postgres } = await testConfig({ ...options, dir, usersPath });
  writeFileSync(configPath, stringify(raw));
  const loaded = loadConfig({ files: [configPath], env: {} });
  const gatehouse = await createGatehouse({
    loaded,
    logger: options.logger ?? pino({ level: process.env.GATEHOUSE_TEST_LOG_LEVEL ?? 'silent' }),
    timing: { firstFactorFailureFloorMs: 50, basicFailureFloorMs: 50, frontWatchdog: options.frontWatchdog },
    onFatal: options.onFatal,
  });
  const address = await gatehouse.listen(0, '127.0.0.1');
  const ownRedis = options.redis === undefined;
  const ownPostgres = options.postgres === undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    gatehouse,
    loaded,
    dir,
    configPath,
    usersPath,
    redis,
    postgres,
    async writeUsers(users) {
      writeFileSync(usersPath, await usersYaml(users));
    },
    async close() {
      await gatehouse.close();
      if (ownRedis) await redis?.cleanup();
      if (ownPostgres) await postgres?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Counts the connections proxies and clients open to Gatehouse's port from now on: the authz front worker's when it
 * owns the port (it counts them in its own thread), else the server's.
 */
export async function countConnections(gatehouse: Gatehouse): Promise<() => Promise<number>> {
  const front = gatehouse.front;
  if (front !== undefined) {
    const before = await front.connectionsAccepted();
    return async () => (await front.connectionsAccepted()) - before;
  }
  let opened = 0;
  gatehouse.server.on('connection', () => opened++);
  return async () => opened;
}
