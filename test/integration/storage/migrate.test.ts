// Migration files: found at run time from the compiled code, strictly named, strictly ordered.
import { describe, it, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMigrations, migrationsDirectory } from '../../../src/storage/migrate.js';

describe('migration files', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  async function directoryWith(files: string[]): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-migrations-'));
    dirs.push(dir);
    for (const file of files) await writeFile(join(dir, file), 'SELECT 1;');
    return dir;
  }

  it('are found from the compiled module under the package root (tsc does not copy them)', async () => {
    const directory = migrationsDirectory();
    assert.ok(directory.endsWith(join('src', 'storage', 'migrations')));
    assert.ok(!directory.includes(`${join('dist', 'src')}`), 'the sources, not dist');
    const names = (await loadMigrations(directory)).map((migration) => migration.name);
    assert.equal(names[0], '0001_initial');
  });

  it('walk up from any depth to the directory holding package.json, past a stray one in dist/', async () => {
    const root = await directoryWith(['package.json']);
    await mkdir(join(root, 'src', 'storage', 'migrations'), { recursive: true });
    await mkdir(join(root, 'dist'));
    await writeFile(join(root, 'dist', 'package.json'), '{"type":"module"}');
    const deep = pathToFileURL(join(root, 'dist', 'src', 'storage', 'migrate.js')).href;
    assert.equal(migrationsDirectory(deep), join(root, 'src', 'storage', 'migrations'));
  });

  it('are applied in numeric order, by name without .sql; other files are ignored', async () => {
    const dir = await directoryWith(['0002_second.sql', '0010_tenth.sql', '0001_first.sql', 'README.md']);
    assert.deepEqual(
      (await loadMigrations(dir)).map((migration) => migration.name),
      ['0001_first', '0002_second', '0010_tenth'],
    );
  });

  const refused: Array<{ rule: string; files: string[]; message: RegExp }> = [
    { rule: 'a misnamed file', files: ['0001_first.sql', '2_second.sql'], message: /is not named NNNN_/ },
    { rule: 'upper-case names', files: ['0001_First.sql'], message: /is not named NNNN_/ },
    {
      rule: 'two files with one number',
      files: ['0001_first.sql', '0001_other.sql'],
      message: /two migration files are numbered 0001/,
    },
  ];
  for (const { rule, files, message } of refused) {
    it(`refuse ${rule} rather than skip it`, async () => {
      await assert.rejects(loadMigrations(await directoryWith(files)), message);
    });
  }
});
