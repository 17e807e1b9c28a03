// `gatehouse validate-config --check-ldap` against a real slapd: the settings are checked, then one connection is
// opened and bound as the service user exactly as `serve` would (ldap://, StartTLS, ldaps:// with a self-signed
// certificate trusted only through NODE_EXTRA_CA_CERTS), the password read from an AUTHELIA_..._FILE variable.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../../helpers/process.js';
import { SERVICE_PASSWORD, startLdapServer, type LdapServer } from '../../helpers/ldap-server.js';

let ldap: LdapServer;
let dir: string;

function configFile(ldapSection: Record<string, unknown>): string {
  const path = join(mkdtempSync(join(dir, 'case-')), 'configuration.yml');
  writeFileSync(
    path,
    stringify({
      session: { cookies: [{ domain: 'example.com', authelia_url: 'https://auth.example.com' }] },
      authentication_backend: { ldap: ldapSection, refresh_interval: '1m' },
    }),
  );
  return path;
}

beforeAll(async () => {
  ldap = await startLdapServer();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-check-ldap-'));
});

afterAll(async () => {
  await ldap?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('validate-config --check-ldap', () => {
  it('connects and binds as the service user; the password may come from AUTHELIA_..._FILE', async () => {
    const passwordFile = join(dir, 'ldap-password');
    writeFileSync(passwordFile, `${SERVICE_PASSWORD}\n`);
    const { password: _password, ...withoutPassword } = ldap.backendConfig();
    const res = await runCli(['validate-config', '--check-ldap', '--config', configFile(withoutPassword)], {
      env: { AUTHELIA_AUTHENTICATION_BACKEND_LDAP_PASSWORD_FILE: passwordFile },
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Configuration is valid/);
    assert.match(res.stdout, /LDAP: connected to ldap:\/\/127\.0\.0\.1:\d+ and bound as cn=gatehouse/);
  });

  it('without --check-ldap the directory is not contacted (a valid configuration of a stopped directory passes)', async () => {
    const res = await runCli([
      'validate-config',
      '--config',
      configFile(ldap.backendConfig({ address: 'ldap://127.0.0.1:1' })),
    ]);
    assert.equal(res.code, 0, res.stderr);
  });

  it('exits 1 naming the directory when it cannot be reached or the service password is wrong', async () => {
    const down = await runCli([
      'validate-config',
      '--check-ldap',
      '--config',
      configFile(ldap.backendConfig({ address: 'ldap://127.0.0.1:1', timeout: '1s' })),
    ]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /LDAP: user directory unavailable: .*ldap:\/\/127\.0\.0\.1:1/);
    const wrong = await runCli([
      'validate-config',
      '--check-ldap',
      '--config',
      configFile(ldap.backendConfig({ password: 'not-it' })),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /InvalidCredentialsError/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, /not-it/, 'the password is never printed');
  });

  it('ldaps:// and StartTLS with a self-signed certificate: refused until Node trusts it (NODE_EXTRA_CA_CERTS)', async () => {
    for (const section of [ldap.backendConfig({ address: ldap.tlsUrl }), ldap.backendConfig({ start_tls: true })]) {
      const config = configFile(section);
      const untrusted = await runCli(['validate-config', '--check-ldap', '--config', config]);
      assert.equal(untrusted.code, 1, untrusted.stdout);
      assert.match(untrusted.stderr, /self[- ]signed certificate/i);
      const trusted = await runCli(['validate-config', '--check-ldap', '--config', config], {
        env: { NODE_EXTRA_CA_CERTS: ldap.certificatePath },
      });
      assert.equal(trusted.code, 0, trusted.stderr);
    }
  });

  it('refuses broken LDAP settings before connecting, with each problem named', async () => {
    const filters = await runCli([
      'validate-config',
      '--check-ldap',
      '--config',
      configFile(ldap.backendConfig({ users_filter: '(uid=alice)', groups_filter: '(member={nope})' })),
    ]);
    assert.equal(filters.code, 1);
    assert.match(filters.stderr, /authentication_backend\.ldap\.users_filter: must contain \{input\}/);
    assert.match(filters.stderr, /authentication_backend\.ldap\.groups_filter: has an unknown placeholder \{nope\}/);
    assert.doesNotMatch(filters.stdout, /LDAP: connected/);
    const address = await runCli([
      'validate-config',
      '--check-ldap',
      '--config',
      configFile(ldap.backendConfig({ address: 'ldapi:///run/slapd.sock' })),
    ]);
    assert.equal(address.code, 1);
    assert.match(address.stderr, /authentication_backend\.ldap\.address: must be an ldap:\/\/ or ldaps:\/\/ address/);
  });
});
