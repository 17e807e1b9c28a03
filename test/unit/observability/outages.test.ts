// The outage log: once per outage at error, once per recovery at info, every 503 counted; the probe finds the
// recovery without traffic.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Outages, backendOf, reasonOf } from '../../../src/observability/outages.js';
import { SessionStoreUnavailableError, StorageUnavailableError } from '../../../src/observability/backend-errors.js';

function recorder() {
  const lines: Array<{ level: 'error' | 'info'; fields: Record<string, unknown>; msg: string }> = [];
  const logger = {
    error: (fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'error', fields, msg }),
    info: (fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'info', fields, msg }),
  };
  const counts = { redis: 0, storage: 0 };
  const up = { redis: -1, storage: -1 };
  const metrics = {
    backendUnavailable: (b: 'redis' | 'storage') => {
      counts[b] += 1;
    },
    backendUp: (b: 'redis' | 'storage', isUp: boolean) => {
      up[b] = isUp ? 1 : 0;
    },
  };
  return { lines, logger: logger as never, metrics, counts, up };
}

describe('outage log', () => {
  it('logs an outage once, counts every 503, and logs the recovery once', () => {
    const { lines, logger, metrics, counts, up } = recorder();
    const outages = new Outages(logger, metrics);
    const error = new SessionStoreUnavailableError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
    );
    for (let i = 0; i < 100; i++) outages.answered503('redis', error);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'error');
    assert.deepEqual(lines[0]!.fields, {
      backend: 'redis',
      reason: { message: 'connect ECONNREFUSED 127.0.0.1:6379', code: 'ECONNREFUSED' },
    });
    assert.equal(counts.redis, 100);
    assert.equal(up.redis, 0);
    assert.equal(up.storage, 1);
    outages.available('redis');
    outages.available('redis');
    assert.equal(lines.length, 2);
    assert.equal(lines[1]!.level, 'info');
    assert.equal(lines[1]!.fields.answered503, 100);
    assert.equal(up.redis, 1);
    outages.close();
  });

  it('probes a backend that is down every second until it answers', async () => {
    const { lines, logger } = recorder();
    const outages = new Outages(logger);
    let answers = false;
    let probes = 0;
    outages.setProbe('storage', async () => {
      probes += 1;
      if (!answers) throw new Error('still down');
    });
    outages.unavailable('storage', new StorageUnavailableError(new Error('x'), 'connection refused at db:5432'));
    await new Promise((r) => setTimeout(r, 1_100));
    assert.ok(probes >= 1);
    assert.ok(outages.isDown('storage'));
    answers = true;
    await new Promise((r) => setTimeout(r, 1_100));
    assert.ok(!outages.isDown('storage'));
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['storage unavailable: requests that need it are answered 503 until it is back', 'storage available again'],
    );
    outages.close();
  });

  it('names the backend of the typed errors only', () => {
    assert.equal(backendOf(new SessionStoreUnavailableError(new Error('x'))), 'redis');
    assert.equal(backendOf(new StorageUnavailableError(new Error('x'))), 'storage');
    assert.equal(backendOf(new Error('a bug')), undefined);
    assert.deepEqual(reasonOf(new StorageUnavailableError(new Error('x'), 'database "d" does not exist on h:1')), {
      message: 'storage unavailable: database "d" does not exist on h:1',
    });
  });
});
