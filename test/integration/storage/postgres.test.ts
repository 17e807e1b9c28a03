// PostgreSQL specifics: the configured schema, and failures surfacing as StorageUnavailableError (so callers
// answer 5xx, never "not signed in") with the pool recovering by itself when the server is back.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import pg from 'pg';
import { pino } from 'pino';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { StorageUnavailableError } from '../../../src/observability/backend-errors.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { Relay } from '../../helpers/relay.js';

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function capturedLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, destination), lines };
}

describe('PostgreSQL storage', () => {
  let target: PostgresTestTarget;
  beforeAll(async () => {
    target = await postgresTestTarget();
  });
  afterAll(() => target.cleanup());

  it('creates the configured schema when missing and keeps every table in it', async () => {
    const storage = await openStorage({ postgres: target.config, local: { path: 'unused' } });
    try {
      assert.ok((await storage.migrate()).length > 0);
    } finally {
      await storage.close();
    }
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ tablename: string }>(
        'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
        [target.config.schema],
      );
      assert.deepEqual(
        rows.map((row) => row.tablename),
        [
          'authentication_logs',
          'identity_token_keys',
          'identity_verification',
          'migrations',
          'recovery_code_sets',
          'recovery_codes',
          'user_preferences',
          'webauthn_credentials',
          'webauthn_users',
        ],
      );
    } finally {
      await client.end();
    }
  });

  it('an unreachable server makes every call reject with StorageUnavailableError', async () => {
    const port = await closedPort();
    const storage = await openStorage({
      postgres: { ...target.config, address: { host: '127.0.0.1', port } },
      local: { path: 'unused' },
    });
    try {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['ping', () => storage.ping()],
        ['migrate', () => storage.migrate()],
        [
          'latestAuthenticationAttempts',
          () => storage.latestAuthenticationAttempts({ username: 'alice', since: new Date(0), limit: 3 }),
        ],
        ['loadPreferences', () => storage.loadPreferences('alice')],
        ['consumeIdentityVerification', () => storage.consumeIdentityVerification(crypto.randomUUID(), '192.0.2.1')],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), StorageUnavailableError, name);
      }
    } finally {
      await storage.close();
    }
  });

  describe('when the server goes away and comes back', () => {
    let relay: Relay;
    let storage: Storage;
    const { logger, lines } = capturedLogger();

    beforeAll(async () => {
      relay = new Relay(target.config.address);
      await relay.start();
      storage = await openStorage(
        { postgres: { ...target.config, address: { host: '127.0.0.1', port: relay.port } }, local: { path: 'unused' } },
        logger,
      );
      await storage.migrate();
    });
    afterAll(async () => {
      await storage.close();
      await relay.cut();
    });

    it('answers StorageUnavailableError while it is away, without crashing on the dropped connections', async () => {
      await storage.loadPreferences('alice');
      await relay.cut();
      const warned = () => lines.some((line) => line.level === 40 && /postgres connection lost/.test(line.msg));
      for (let waited = 0; !warned() && waited < 2000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(warned(), 'the idle connection dropped by the server was logged as a warning, not thrown');
      await assert.rejects(storage.loadPreferences('alice'), StorageUnavailableError);
      await assert.rejects(storage.ping(), StorageUnavailableError);
    });

    it('recovers by itself once it is back', async () => {
      await relay.start();
      await storage.ping();
      await storage.savePreferences({ username: 'alice', secondFactorMethod: 'webauthn' });
      assert.deepEqual(await storage.loadPreferences('alice'), { username: 'alice', secondFactorMethod: 'webauthn' });
    });
  });
});
