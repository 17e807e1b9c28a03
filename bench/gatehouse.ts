// A real Gatehouse for the bench: `gatehouse serve` as a child process with a configuration written here (sessions
// in the bench's Redis under their own key prefix, a file user, the rule set asked for), and a signed-in session.
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SHIPPED_NODE_FLAGS } from '../src/node-flags.js';
import { packageRoot } from '../src/paths.js';
import { hashPassword } from '../src/users/hashing.js';
import { type Child, freePort, startNode, startTimeoutMs, waitUntil } from './processes.js';
import type { BenchStorage } from './postgres.js';
import type { BenchRedis } from './redis.js';
import { BENCH_DOMAIN, BENCH_URL, benchRules, PORTAL_URL } from './rule-sets.js';

/** The key that sizes the in-process session cache (0 = off), from issue 10. */
const CACHE_KEY_PATH = ['session', 'redis', 'local_cache', 'max_entries'] as const;

/**
 * Whether this build's configuration knows `session.redis.local_cache.max_entries`, read from the generated JSON
 * Schema: the bench must also run on a Gatehouse without the cache (it then measures only the uncached path).
 */
export function sessionCacheConfigurable(): boolean {
  return configurable(CACHE_KEY_PATH);
}

/** Whether this build's configuration knows `server.authz_thread` (the front worker, src/front/). */
export function authzThreadConfigurable(): boolean {
  return configurable(['server', 'authz_thread']);
}

function configurable(path: readonly string[]): boolean {
  const schema = JSON.parse(readFileSync(join(packageRoot, 'configuration.schema.json'), 'utf8')) as unknown;
  let node: unknown = schema;
  for (const name of path) {
    node = propertyOf(node, name);
    if (node === undefined) return false;
  }
  return true;
}

/** `name` under a JSON Schema object node, looking through anyOf/oneOf/allOf (optional or nullable objects). */
function propertyOf(node: unknown, name: string): unknown {
  if (typeof node !== 'object' || node === null) return undefined;
  const record = node as Record<string, unknown>;
  const properties = record.properties as Record<string, unknown> | undefined;
  if (properties && name in properties) return properties[name];
  for (const combinator of ['anyOf', 'oneOf', 'allOf']) {
    for (const branch of (record[combinator] as unknown[] | undefined) ?? []) {
      const found = propertyOf(branch, name);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export interface GatehouseOptions {
  storage: BenchStorage;
  rules: number;
  /** `session.redis.local_cache.max_entries` to write (0 = cache off); undefined leaves the key out (the default). */
  cacheEntries?: number;
  /** Extra arguments for node (a CPU profile). */
  nodeArgs?: readonly string[];
  /** The cookie domain's `identity_token` on: every pass carries a signed JWT (issue 11, item 5). */
  identityToken?: boolean;
  /** A command node runs under (valgrind: instructions.ts); start-up is then given minutes, not seconds. */
  wrapper?: readonly string[];
  /** `server.authz_thread` to write; undefined leaves the key out (the default: on). */
  authzThread?: boolean;
}

export interface BenchGatehouse {
  child: Child;
  port: number;
  keyPrefix: string;
  /** The request headers of a signed-in user asking for BENCH_URL, as nginx's auth_request would send them. */
  authzHeaders: Record<string, string>;
  cookie: string;
  /** Signs the bench user in once more; resolves with the new session's cookie. */
  signIn(): Promise<string>;
}

const USER = 'bench';
const PASSWORD = 'bench-password';

async function writeConfig(dir: string, port: number, redis: BenchRedis, prefix: string, options: GatehouseOptions) {
  const usersPath = join(dir, 'users.yml');
  if (!readable(usersPath)) {
    // The cheapest argon2id the schema accepts: a sign-in is set-up here, not what is measured.
    const hash = await hashPassword(PASSWORD, {
      variant: 'argon2id',
      iterations: 1,
      memory: 1024,
      parallelism: 1,
      key_length: 32,
      salt_length: 16,
    });
    writeFileSync(
      usersPath,
      stringify({
        users: { [USER]: { displayname: 'Bench User', password: hash, email: 'bench@example.com', groups: ['dev'] } },
      }),
    );
  }
  const redisConfig: Record<string, unknown> = {
    host: redis.host,
    port: redis.port,
    database_index: redis.db,
    key_prefix: prefix,
  };
  if (options.cacheEntries !== undefined) redisConfig.local_cache = { max_entries: options.cacheEntries };
  const configPath = join(dir, `configuration-${port}.yml`);
  writeFileSync(
    configPath,
    stringify({
      server: {
        address: `tcp://127.0.0.1:${port}`,
        ...(options.authzThread === undefined ? {} : { authz_thread: options.authzThread }),
      },
      log: { level: 'warn' },
      authentication_backend: { file: { path: usersPath } },
      identity_validation: { jwt_secret: 'bench-jwt-secret-bench-jwt-secret-0123456789' },
      session: {
        secret: 'bench-session-secret-bench-session-secret-0123',
        cookies: [
          {
            domain: BENCH_DOMAIN,
            authelia_url: PORTAL_URL,
            ...(options.identityToken ? { identity_token: true } : {}),
          },
        ],
        redis: redisConfig,
      },
      storage: options.storage.section(dir, port),
      notifier: { filesystem: { filename: join(dir, 'notification.txt') } },
      access_control: { default_policy: 'deny', rules: benchRules(options.rules) },
    }),
  );
  return configPath;
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function signIn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const portal = new URL(PORTAL_URL);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/firstfactor',
        method: 'POST',
        agent: false,
        // The portal is found by Host, which fetch() will not let us set: hence node:http.
        headers: { Host: portal.host, Origin: portal.origin, 'Content-Type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const cookie = (res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
          if (res.statusCode !== 200 || !cookie.includes('='))
            reject(new Error(`bench sign-in failed: ${res.statusCode}`));
          else resolve(cookie);
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ username: USER, password: PASSWORD }));
  });
}

/** Starts Gatehouse, waits until it is healthy, signs in, and checks that the bench request is allowed. */
export async function startGatehouse(
  dir: string,
  redis: BenchRedis,
  options: GatehouseOptions,
): Promise<BenchGatehouse> {
  const port = await freePort();
  const keyPrefix = `gh_bench_${process.pid}_${port}:`;
  const configPath = await writeConfig(dir, port, redis, keyPrefix, options);
  // Started as every shipped start does (src/node-flags.ts), plus whatever the run adds (a profile).
  const nodeArgs = [...SHIPPED_NODE_FLAGS, ...(options.nodeArgs ?? [])];
  const child = startNode(nodeArgs, 'dist/src/cli.js', ['serve', '--config', configPath], {}, options.wrapper);
  try {
    const ready = async () => (await get(port, '/api/health')) === 200;
    await waitUntil('gatehouse', child, ready, startTimeoutMs(options.wrapper));
    const cookie = await signIn(port);
    const url = new URL(BENCH_URL);
    const authzHeaders = {
      'X-Original-URL': url.href,
      'X-Original-Method': 'GET',
      'X-Forwarded-For': '203.0.113.5',
      Cookie: cookie,
    };
    const status = await get(port, '/api/authz/auth-request', authzHeaders);
    if (status !== 200) throw new Error(`the bench's session is not allowed: ${status}\n${child.output()}`);
    return { child, port, keyPrefix, authzHeaders, cookie, signIn: () => signIn(port) };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
