// The pruner never fails anything but its own round: a storage error is logged (no stack) and the next round
// tries again; stop() ends the timer and waits for a round in progress.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { AuthenticationLogPruner } from '../../../src/regulation/log-pruner.js';
import { StorageUnavailableError } from '../../../src/observability/backend-errors.js';

function logRecorder() {
  const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>) => void lines.push({ level, fields });
  return { lines, logger: { info: at('info'), warn: at('warn'), debug: () => undefined } };
}

describe('AuthenticationLogPruner', () => {
  it('logs a failed round and removes the rows at the next one', async () => {
    let fail = true;
    const calls: Date[] = [];
    const storage = {
      pruneAuthenticationLogs: async (olderThan: Date, batchSize: number) => {
        calls.push(olderThan);
        if (fail) throw new StorageUnavailableError(new Error('connection refused'), 'connection refused at db:5432');
        return calls.length === 2 ? batchSize : 1;
      },
    };
    const log = logRecorder();
    const pruner = new AuthenticationLogPruner(storage, log.logger, {
      retentionSeconds: 60,
      batchSize: 10,
      now: () => 1_000_000,
    });
    await pruner.runOnce();
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]!.level, 'warn');
    assert.match(String((log.lines[0]!.fields.reason as { message: string }).message), /connection refused/);
    assert.equal('err' in log.lines[0]!.fields, false, 'no stack in the log');
    fail = false;
    await pruner.runOnce();
    assert.deepEqual(log.lines[1], {
      level: 'info',
      fields: { removed: 11, olderThan: new Date(940_000).toISOString() },
    });
    assert.equal(calls.at(-1)!.getTime(), 1_000_000 - 60_000);
    await pruner.stop();
  });

  it('stops after the lock is found taken, and does nothing once stopped', async () => {
    let calls = 0;
    const storage = {
      pruneAuthenticationLogs: async () => {
        calls += 1;
        return undefined;
      },
    };
    const pruner = new AuthenticationLogPruner(storage, logRecorder().logger, { retentionSeconds: 60 });
    pruner.start();
    await pruner.stop();
    assert.equal(calls, 1, 'the round at start, then nothing');
    await pruner.runOnce();
    assert.equal(calls, 1);
  });

  it('a long backlog is worked off over several rounds (at most maxBatches per round)', async () => {
    let calls = 0;
    const storage = {
      pruneAuthenticationLogs: async (_: Date, batchSize: number) => {
        calls += 1;
        return batchSize;
      },
    };
    const pruner = new AuthenticationLogPruner(storage, logRecorder().logger, {
      retentionSeconds: 60,
      batchSize: 5,
      maxBatches: 3,
    });
    await pruner.runOnce();
    assert.equal(calls, 3);
    await pruner.stop();
  });
});
