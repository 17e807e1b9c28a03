// Issue 4, item 7: the laptop stack (deploy/docker-compose.yml) without Docker: its nginx site and its Gatehouse
// configuration, run by the real nginx and the real `gatehouse serve`, with the stack's service addresses replaced
// by this machine's (environment variables, as an operator would override them) and the stack's demo users and
// secrets. A browser reaches nginx through the published port 8080, so requests carry `Host: ...:8080`.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../../../src/paths.js';
import { freePort, startServerProcess, type ServerProcess } from '../../helpers/process.js';
import { redisTestTarget, type RedisTestTarget } from '../../helpers/redis.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import {
  echoOf,
  send,
  startComposeNginx,
  startEchoUpstream,
  type EchoUpstream,
  type ProxyProcess,
} from '../helpers/proxies.js';
import { shippedFile } from '../helpers/proxy-configs.js';

interface ComposeService {
  environment?: Record<string, string>;
  volumes?: string[];
}

const compose = parseYaml(shippedFile('deploy/docker-compose.yml')) as { services: Record<string, ComposeService> };
const gatehouseService = compose.services.gatehouse!;
/** Where the stack mounts a container path from, as a repository path. */
/** The host file behind a container path, through the service's folder (or file) bind mounts. */
function mountedFrom(containerPath: string): string {
  for (const volume of gatehouseService.volumes!) {
    const [host, inContainer] = volume.split(':') as [string, string];
    if (containerPath === inContainer || containerPath.startsWith(`${inContainer}/`)) {
      return `${packageRoot}/deploy/${host}${containerPath.slice(inContainer.length)}`;
    }
  }
  throw new Error(`nothing is mounted at ${containerPath}`);
}

const PORTAL = 'http://auth.nginx.localhost:8080';
const APP = 'http://app.nginx.localhost:8080';
const BROWSER = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the laptop stack: its nginx site and Gatehouse configuration', () => {
  let redis: RedisTestTarget;
  let postgres: PostgresTestTarget;
  let gatehouse: ServerProcess;
  let upstream: EchoUpstream;
  let nginx: ProxyProcess;

  beforeAll(async () => {
    redis = await redisTestTarget();
    postgres = await postgresTestTarget();
    const r = redis.config;
    const p = postgres.config;
    const env: Record<string, string> = {
      ...gatehouseService.environment,
      GATEHOUSE_AUTHENTICATION_BACKEND_FILE_PATH: mountedFrom('/users/users_database.yml'),
      GATEHOUSE_SESSION_REDIS_HOST: r.host,
      GATEHOUSE_SESSION_REDIS_PORT: String(r.port),
      GATEHOUSE_SESSION_REDIS_DATABASE_INDEX: String(r.database_index),
      GATEHOUSE_SESSION_REDIS_KEY_PREFIX: r.key_prefix,
      ...(r.password ? { GATEHOUSE_SESSION_REDIS_PASSWORD: r.password } : {}),
      GATEHOUSE_STORAGE_POSTGRES_ADDRESS: `tcp://${p.address.host}:${p.address.port}`,
      GATEHOUSE_STORAGE_POSTGRES_DATABASE: p.database,
      GATEHOUSE_STORAGE_POSTGRES_SCHEMA: p.schema,
      GATEHOUSE_STORAGE_POSTGRES_USERNAME: p.username,
      GATEHOUSE_STORAGE_POSTGRES_PASSWORD: p.password,
      // No mail is sent here; nothing listens on this port.
      GATEHOUSE_NOTIFIER_SMTP_ADDRESS: `smtp://127.0.0.1:${await freePort()}`,
      GATEHOUSE_NOTIFIER_DISABLE_STARTUP_CHECK: 'true',
    };
    gatehouse = await startServerProcess(mountedFrom('/config/configuration.yml'), await freePort(), env);
    upstream = await startEchoUpstream();
    nginx = await startComposeNginx({
      gatehousePort: Number(new URL(gatehouse.url).port),
      upstreamPort: upstream.port,
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await upstream?.close();
    await gatehouse?.stop();
    await redis?.cleanup();
    await postgres?.cleanup();
  });

  it('sends a browser to the portal on the published port, with plain-http URLs', async () => {
    const reply = await send(nginx, `${APP}/welcome`, { headers: BROWSER });
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, `${PORTAL}/?rd=${encodeURIComponent(`${APP}/welcome`)}&rm=GET`);
  });

  it('signs in a demo user through the portal; the app then sees who it is', async () => {
    const signIn = await send(nginx, `${PORTAL}/api/firstfactor`, {
      method: 'POST',
      headers: { Origin: PORTAL, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({
        username: 'john',
        password: 'password',
        targetURL: `${APP}/welcome`,
        requestMethod: 'GET',
      }),
    });
    assert.equal(signIn.status, 200, signIn.body);
    assert.deepEqual(JSON.parse(signIn.body), { status: 'OK', data: { redirect: `${APP}/welcome` } });
    const setCookie = (signIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('gatehouse_session='))!;
    assert.match(setCookie, /; Domain=nginx\.localhost/i);
    assert.doesNotMatch(setCookie, /; Secure/i, 'an http portal cannot use Secure cookies');

    const echo = echoOf(
      await send(nginx, `${APP}/welcome`, { headers: { ...BROWSER, Cookie: setCookie.split(';')[0]! } }),
    );
    assert.equal(echo.headers['remote-user'], 'john');
    assert.equal(echo.headers['remote-groups'], 'admins,dev');
    assert.equal(echo.headers['x-forwarded-host'], 'app.nginx.localhost:8080');
  });

  it('lets the public path of the demo app through', async () => {
    const echo = echoOf(await send(nginx, `${APP}/public/`, { headers: BROWSER }));
    assert.equal(echo.headers['remote-user'], undefined);
  });
});
