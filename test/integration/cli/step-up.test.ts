// Step-up (issue 11 item 2) as an operator meets it at the command line: check-policy shows the deciding rule's
// max_auth_age, and validate-config refuses one on a rule that asks for no key.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_ACCESS_CONTROL, DEFAULT_USERS, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { runCli } from '../../helpers/process.js';

describe('gatehouse CLI and max_auth_age', () => {
  let dir: string;
  let raw: Record<string, unknown>;

  async function writeConfig(name: string, rules: unknown[]): Promise<string> {
    const path = join(dir, name);
    writeFileSync(path, stringify({ ...raw, access_control: { ...DEFAULT_ACCESS_CONTROL, rules } }));
    return path;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-step-up-cli-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
    ({ raw } = await testConfig({ dir, usersPath, storage: 'embedded', sessions: 'memory' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check-policy prints the max age of the deciding rule', async () => {
    const configPath = await writeConfig('step-up.yml', [
      { domain: 'vault.example.com', policy: 'two_factor', max_auth_age: '10m' },
      ...DEFAULT_ACCESS_CONTROL.rules,
    ]);
    const vault = await runCli([
      'access-control',
      'check-policy',
      '--config',
      configPath,
      '--url',
      'https://vault.example.com/',
      '--username',
      'john',
    ]);
    assert.equal(vault.code, 0, vault.stderr);
    assert.match(vault.stdout, /The policy 'two_factor' from rule #1 will be applied to this request\./);
    assert.match(vault.stdout, /^Max auth age: 10m \(max_auth_age\)/m);
    const other = await runCli([
      'access-control',
      'check-policy',
      '--config',
      configPath,
      '--url',
      'https://secure.example.com/',
      '--username',
      'john',
    ]);
    assert.equal(other.code, 0, other.stderr);
    assert.doesNotMatch(other.stdout, /Max auth age/);
  });

  it('validate-config refuses max_auth_age on a one_factor rule, naming the key and why', async () => {
    const configPath = await writeConfig('misplaced.yml', [
      { domain: 'app.example.com', policy: 'one_factor', max_auth_age: '10m' },
    ]);
    const res = await runCli(['validate-config', '--config', configPath]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr + res.stdout, /access_control\.rules\[0\]\.max_auth_age/);
    assert.match(res.stderr + res.stdout, /only applies to 'two_factor' rules/);
  });
});
