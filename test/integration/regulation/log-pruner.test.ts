// authentication_logs is pruned (regulation/log-pruner.ts) on both back ends: rows older than the retention go, in
// batches; recent rows stay, and so does every ban (they are read from the last find_time + ban_time only).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { configSchema, type Config } from '../../../src/config/schema.js';
import {
  AUTHENTICATION_LOG_MIN_RETENTION_SECONDS,
  AuthenticationLogPruner,
  authenticationLogRetentionSeconds,
} from '../../../src/regulation/log-pruner.js';
import { Regulator } from '../../../src/regulation/regulator.js';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';

const DAY_MS = 86_400_000;
const config = configSchema.parse({ regulation: { max_retries: 3, find_time: '2m', ban_time: '5m' } });
const regulation: Config['regulation'] = config.regulation;
const RETENTION_MS = authenticationLogRetentionSeconds(config) * 1000;

/** Records what the pruner logs. */
function logRecorder() {
  const info: Array<Record<string, unknown>> = [];
  const warn: Array<Record<string, unknown>> = [];
  return {
    info,
    warn,
    logger: {
      info: (fields: Record<string, unknown>) => void info.push(fields),
      warn: (fields: Record<string, unknown>) => void warn.push(fields),
      debug: () => undefined,
    },
  };
}

async function logAttempt(storage: Storage, username: string, time: Date, successful = false): Promise<void> {
  await storage.appendAuthenticationLog({
    time,
    successful,
    banned: false,
    username,
    authType: '1FA',
    remoteIp: '192.0.2.7',
    requestUri: '/api/firstfactor',
    requestMethod: 'POST',
  });
}

const countOf = async (storage: Storage, username: string) =>
  (await storage.latestAuthenticationAttempts({ username, since: new Date(0), limit: 1000 })).length;

function runCases(storageOf: () => Storage, siblingOf?: () => Storage) {
  it('removes rows older than the retention in batches, keeps recent rows and bans, and logs the count', async () => {
    const storage = storageOf();
    const now = Date.now();
    for (let i = 0; i < 5; i++) await logAttempt(storage, 'old', new Date(now - RETENTION_MS - DAY_MS - i * 1000));
    await logAttempt(storage, 'recent', new Date(now - RETENTION_MS + DAY_MS));
    // A ban in force: three failures a minute ago.
    for (const secondsAgo of [70, 65, 60]) await logAttempt(storage, 'banned', new Date(now - secondsAgo * 1000));
    const regulator = new Regulator(storage, regulation);
    assert.equal(await regulator.isBanned('banned', '192.0.2.8'), true);

    const log = logRecorder();
    const pruner = new AuthenticationLogPruner(storage, log.logger, {
      retentionSeconds: RETENTION_MS / 1000,
      batchSize: 2,
    });
    await pruner.runOnce();
    await pruner.stop();

    assert.equal(await countOf(storage, 'old'), 0);
    assert.equal(await countOf(storage, 'recent'), 1);
    assert.equal(await countOf(storage, 'banned'), 3);
    assert.equal(await regulator.isBanned('banned', '192.0.2.8'), true);
    assert.deepEqual(
      log.info.map((fields) => fields.removed),
      [5],
    );
    assert.deepEqual(log.warn, []);
  });

  it('a round with nothing old enough removes nothing and logs nothing', async () => {
    const storage = storageOf();
    await logAttempt(storage, 'fresh', new Date());
    const log = logRecorder();
    const pruner = new AuthenticationLogPruner(storage, log.logger, { retentionSeconds: RETENTION_MS / 1000 });
    await pruner.runOnce();
    await pruner.stop();
    assert.equal(await countOf(storage, 'fresh'), 1);
    assert.deepEqual([...log.info, ...log.warn], []);
  });

  if (siblingOf)
    it('two replicas pruning at once remove every old row once between them', async () => {
      const storage = storageOf();
      const now = Date.now();
      for (let i = 0; i < 9; i++) await logAttempt(storage, 'both', new Date(now - RETENTION_MS - DAY_MS - i));
      const logs = [logRecorder(), logRecorder()];
      const pruners = [storage, siblingOf()].map(
        (replica, i) =>
          new AuthenticationLogPruner(replica, logs[i]!.logger, {
            retentionSeconds: RETENTION_MS / 1000,
            batchSize: 2,
          }),
      );
      await Promise.all(pruners.map((pruner) => pruner.runOnce()));
      await Promise.all(pruners.map((pruner) => pruner.stop()));
      assert.equal(await countOf(storage, 'both'), 0);
      const removed = logs.flatMap((log) => log.info.map((fields) => fields.removed as number));
      assert.equal(
        removed.reduce((a, b) => a + b, 0),
        9,
      );
      assert.deepEqual(
        logs.flatMap((log) => log.warn),
        [],
      );
    });
}

describe('authentication log retention', () => {
  const withRetention = (retention: string, over: Record<string, unknown> = {}) =>
    configSchema.parse({ storage: { authentication_log: { retention } }, regulation: { ...regulation, ...over } });

  it('is 30 days by default, or find_time + ban_time when regulation looks further back', () => {
    assert.equal(AUTHENTICATION_LOG_MIN_RETENTION_SECONDS, 30 * 24 * 3600);
    assert.equal(authenticationLogRetentionSeconds(config), 30 * 24 * 3600);
    const long = { ...config, regulation: { ...regulation, find_time: 3600, ban_time: 40 * 24 * 3600 } };
    assert.equal(authenticationLogRetentionSeconds(long), 40 * 24 * 3600 + 3600);
  });

  it('is storage.authentication_log.retention when set, shorter or longer than 30 days', () => {
    assert.equal(authenticationLogRetentionSeconds(withRetention('7d')), 7 * 24 * 3600);
    assert.equal(authenticationLogRetentionSeconds(withRetention('1y')), 365 * 24 * 3600);
  });

  it('never drops below find_time + ban_time while regulation is on, even for an unvalidated value', () => {
    assert.equal(authenticationLogRetentionSeconds(withRetention('1m')), 7 * 60);
    assert.equal(authenticationLogRetentionSeconds(withRetention('1m', { max_retries: 0 })), 60);
  });

  it('is pruned by the configured retention: a row older than it goes, a younger one stays', async () => {
    const storage = await openStorage({ local: { path: 'memory://' } });
    try {
      await storage.migrate();
      const seconds = authenticationLogRetentionSeconds(withRetention('2d'));
      const now = Date.now();
      await logAttempt(storage, 'three-days', new Date(now - 3 * DAY_MS));
      await logAttempt(storage, 'one-day', new Date(now - DAY_MS));
      const pruner = new AuthenticationLogPruner(storage, logRecorder().logger, { retentionSeconds: seconds });
      await pruner.runOnce();
      await pruner.stop();
      assert.equal(await countOf(storage, 'three-days'), 0);
      assert.equal(await countOf(storage, 'one-day'), 1);
    } finally {
      await storage.close();
    }
  });
});

describe('authentication log pruning on embedded PGlite', () => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await openStorage({ local: { path: 'memory://' } });
    await storage.migrate();
  });
  afterAll(() => storage.close());
  runCases(() => storage);
});

describe('authentication log pruning on PostgreSQL', () => {
  let target: PostgresTestTarget;
  let replicas: Storage[];
  beforeAll(async () => {
    target = await postgresTestTarget();
    const config = { postgres: target.config, local: { path: 'unused' } };
    replicas = await Promise.all([openStorage(config), openStorage(config)]);
    await replicas[0]!.migrate();
  });
  afterAll(async () => {
    await Promise.all(replicas.map((storage) => storage.close()));
    await target.cleanup();
  });
  runCases(
    () => replicas[0]!,
    () => replicas[1]!,
  );
});
