// Embedded storage (PGlite) persisted on disk under storage.local.path, for a single replica.
import { describe, it, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../../src/storage/open.js';

describe('embedded storage on disk', () => {
  const parents: string[] = [];
  afterAll(() => Promise.all(parents.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('creates missing parent directories and keeps data across restarts', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'gatehouse-db-'));
    parents.push(parent);
    const path = join(parent, 'nested', 'data', 'db');

    const first = await openStorage({ local: { path } });
    assert.equal(first.kind, 'embedded');
    assert.ok((await first.migrate()).length > 0);
    await first.savePreferences({ username: 'alice', secondFactorMethod: 'webauthn' });
    await first.close();

    const second = await openStorage({ local: { path } });
    try {
      assert.deepEqual(await second.migrate(), [], 'migrations already recorded on disk');
      assert.deepEqual(await second.loadPreferences('alice'), { username: 'alice', secondFactorMethod: 'webauthn' });
    } finally {
      await second.close();
    }
  });
});
