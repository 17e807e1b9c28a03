// Failing loudly (issue 8): a storage that cannot start says why (database missing, connection refused, failed
// authentication, a file where a directory belongs), and a hung PostgreSQL is given up on after
// storage.postgres.timeout, not held for 30 s.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../../src/storage/open.js';
import { StorageUnavailableError } from '../../../src/observability/backend-errors.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { freePort } from '../../helpers/process.js';
import { Relay } from '../../helpers/relay.js';

async function startError(storageConfig: Parameters<typeof openStorage>[0]): Promise<StorageUnavailableError> {
  let storage: Awaited<ReturnType<typeof openStorage>> | undefined;
  try {
    storage = await openStorage(storageConfig);
    await storage.migrate();
  } catch (error) {
    assert.ok(error instanceof StorageUnavailableError, String(error));
    return error;
  } finally {
    await storage?.close();
  }
  assert.fail('the storage started');
}

describe('a PostgreSQL that cannot be used is named with its cause', () => {
  let postgres: PostgresTestTarget;
  beforeAll(async () => {
    postgres = await postgresTestTarget();
  });
  afterAll(() => postgres.cleanup());

  it('a database that does not exist', async () => {
    const error = await startError({
      ...emptyLocal,
      postgres: { ...postgres.config, database: 'gatehouse_no_such_db' },
    });
    const { host, port } = postgres.config.address;
    assert.equal(
      error.message,
      `storage unavailable: database "gatehouse_no_such_db" does not exist on ${host}:${port}`,
    );
  });

  it('a closed port', async () => {
    const port = await freePort();
    const error = await startError({
      ...emptyLocal,
      postgres: { ...postgres.config, address: { host: '127.0.0.1', port } },
    });
    assert.match(error.message, new RegExp(`^storage unavailable: connection refused at 127\\.0\\.0\\.1:${port}`));
  });

  it('a user that does not exist', async () => {
    const error = await startError({
      ...emptyLocal,
      postgres: { ...postgres.config, username: 'gatehouse_no_such_user' },
    });
    assert.match(error.message, /^storage unavailable: authentication failed for user "gatehouse_no_such_user"/);
  });

  it('a hung server is given up on after storage.postgres.timeout, for a new and for a pooled connection', async () => {
    const relay = new Relay(postgres.config.address);
    await relay.start();
    const storage = await openStorage({
      ...emptyLocal,
      postgres: { ...postgres.config, timeout: 1, address: { host: '127.0.0.1', port: relay.port } },
    });
    try {
      await storage.migrate();
      relay.hang();
      for (const which of ['pooled connection', 'new connection']) {
        const started = performance.now();
        // Two at once: one takes the pooled connection, the other opens a new one.
        const results = await Promise.allSettled([storage.ping(), storage.ping()]);
        const elapsed = performance.now() - started;
        for (const result of results) {
          assert.equal(result.status, 'rejected', which);
          assert.match(
            String((result as PromiseRejectedResult).reason.message),
            /no answer from 127\.0\.0\.1:\d+ within 1 s|connection .* reset|storage unavailable/,
          );
        }
        assert.ok(elapsed < 2_500, `${which}: gave up after ${Math.round(elapsed)} ms (timeout 1 s)`);
      }
      relay.resume();
    } finally {
      await storage.close();
      await relay.cut();
    }
  });
});

const emptyLocal = { local: { path: 'memory://' } };

describe('an embedded storage path that cannot be used is named with its cause', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a path that is a file', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'not a database');
    const error = await startError({ local: { path: file } });
    assert.match(error.message, /storage\.local\.path '.*plain' is a file/);
  });

  it('a path under a file', async () => {
    const file = join(dir, 'plain2');
    writeFileSync(file, 'not a database');
    const error = await startError({ local: { path: join(file, 'db') } });
    assert.match(error.message, /is a file \(or lies under one\)/);
  });

  it("a path that is an SQLite database (Authelia's local storage)", async () => {
    const file = join(dir, 'db.sqlite3');
    writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(84)]));
    const error = await startError({ local: { path: file } });
    assert.match(error.message, /is an SQLite database \(Authelia's local storage\)/);
  });
});
