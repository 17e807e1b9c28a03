// Issue 4 item 9: `gatehouse storage user webauthn import|export FILE`, run as the real binary against PostgreSQL.
// Keys exported by Authelia keep their IDs, public keys, counters, AAGUIDs, names and dates; keys Authelia carried
// over from FIDO U2F are stored as legacy U2F keys and sign in through the `appid` extension (SPEC §6).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { DEFAULT_USERS, startGatehouse, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { sessionCookieFrom, signIn } from '../../helpers/flows.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';
import { runCli } from '../../helpers/process.js';
import { getAssertion, legacyU2fCredential } from '../../helpers/soft-authenticator.js';
import { packageRoot } from '../../../src/paths.js';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { parseAutheliaExport } from '../../../src/webauthn/authelia-export.js';
import { openSqlDriver } from '../../../src/storage/open.js';
import { coseToU2fPoint } from '../../../src/webauthn/u2f-key.js';
import { api, ORIGIN, RP_ID, state } from './support.js';

const FIXTURE = join(packageRoot, 'test/fixtures/authelia/webauthn-export.yml');
const ONE_PORTAL = [
  { domain: 'example.com', authelia_url: ORIGIN, default_redirection_url: 'https://www.example.com' },
];

/** The fixture's entries as plain YAML data, to build variants from (a fresh copy on every call). */
function fixtureEntries(): Record<string, unknown>[] {
  return (parseYaml(readFileSync(FIXTURE, 'utf8')) as { webauthn_credentials: Record<string, unknown>[] })
    .webauthn_credentials;
}

const b64 = (text: string) => Buffer.from(text, 'base64');
const b64url = (text: string) => b64(text).toString('base64url');

function pgEnv(pg: PostgresTestTarget): Record<string, string> {
  return {
    GATEHOUSE_STORAGE_POSTGRES_ADDRESS: `tcp://${pg.config.address.host}:${pg.config.address.port}`,
    GATEHOUSE_STORAGE_POSTGRES_DATABASE: pg.config.database,
    GATEHOUSE_STORAGE_POSTGRES_SCHEMA: pg.config.schema,
    GATEHOUSE_STORAGE_POSTGRES_USERNAME: pg.config.username,
    GATEHOUSE_STORAGE_POSTGRES_PASSWORD: pg.config.password || 'unused-with-trust-auth',
  };
}

function storageOf(pg: PostgresTestTarget): Promise<Storage> {
  return openStorage({ postgres: pg.config, local: { path: 'memory://' } });
}

describe('gatehouse storage user webauthn import/export (Authelia format)', () => {
  let dir: string;
  /** One portal (auth.example.com): the fixture's never-used U2F key has an empty rpid. */
  let configPath: string;
  /** The default test configuration's two portals. */
  let twoPortalsConfigPath: string;
  let pg: PostgresTestTarget;
  let storage: Storage;

  const cli = (args: string[], target: PostgresTestTarget = pg, config = configPath) =>
    runCli(['storage', 'user', 'webauthn', ...args, '--config', config], { env: pgEnv(target) });
  const writeExport = (name: string, entries: unknown[]) => {
    const path = join(dir, name);
    writeFileSync(path, stringify({ webauthn_credentials: entries }));
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-authelia-import-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
    const onePortal = await testConfig({
      dir,
      usersPath,
      storage: 'embedded',
      sessions: 'memory',
      config: { session: { cookies: ONE_PORTAL } },
    });
    configPath = join(dir, 'one-portal.yml');
    writeFileSync(configPath, stringify(onePortal.raw));
    const twoPortals = await testConfig({ dir, usersPath, storage: 'embedded', sessions: 'memory' });
    twoPortalsConfigPath = join(dir, 'two-portals.yml');
    writeFileSync(twoPortalsConfigPath, stringify(twoPortals.raw));
    pg = await postgresTestTarget();
    const first = await cli(['import', FIXTURE]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Imported 3 WebAuthn credential/);
    storage = await storageOf(pg);
  });

  afterAll(async () => {
    await storage?.close();
    await pg?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps IDs, public keys, counters, AAGUIDs, names, dates and flags of a WebAuthn key', async () => {
    const [source] = fixtureEntries();
    const stored = await storage.findWebAuthnCredentialByKid(b64url(source!.kid as string));
    assert.ok(stored, 'the YubiKey is stored under its credential ID');
    assert.equal(stored.username, 'john');
    assert.equal(stored.rpid, RP_ID);
    assert.equal(stored.description, 'YubiKey 5 NFC');
    assert.deepEqual(Buffer.from(stored.publicKey), b64(source!.public_key as string));
    assert.equal(stored.signCount, 42);
    assert.equal(stored.aaguid, 'cb69481e-8ff7-4039-93ec-0a2729a154a8');
    assert.equal(stored.attestationType, 'packed');
    assert.equal(stored.attachment, 'cross-platform');
    assert.deepEqual(stored.transports, ['nfc', 'usb']);
    assert.equal(stored.createdAt.getTime(), new Date('2024-05-14T09:12:31.482+02:00').getTime());
    assert.equal(stored.lastUsedAt?.getTime(), new Date('2025-01-20T18:03:07.118+01:00').getTime());
    assert.equal(stored.present, true);
    assert.equal(stored.verified, false);
    assert.equal(stored.cloneWarning, false);
    assert.deepEqual(Buffer.from(stored.attestation!), b64(source!.attestation as string));
    assert.equal(stored.legacyU2fAppid, null, 'a WebAuthn key needs no AppID');
  });

  it('stores keys Authelia migrated from U2F as legacy U2F keys with the portal origin as AppID', async () => {
    const [, used, neverUsed] = fixtureEntries();
    for (const source of [used!, neverUsed!]) {
      const stored = await storage.findWebAuthnCredentialByKid(b64url(source.kid as string));
      assert.ok(stored, `${source.username}'s U2F key is stored`);
      assert.equal(stored.rpid, RP_ID, 'an empty or origin rpid becomes the portal host');
      assert.equal(stored.legacyU2fAppid, ORIGIN);
      assert.equal(stored.attestationType, 'fido-u2f');
      assert.equal(stored.aaguid, '00000000-0000-0000-0000-000000000000');
      assert.equal(stored.signCount, source.sign_count);
      // Stored as COSE (one verifier for every key), and the same point as the file's raw U2F key.
      assert.deepEqual(Buffer.from(coseToU2fPoint(stored.publicKey)!), b64(source.public_key as string));
    }
    assert.equal((await storage.listWebAuthnCredentials('harry', RP_ID)).length, 1);
    assert.equal((await storage.listWebAuthnCredentials('john', RP_ID)).length, 2);
  });

  it("gives each imported user a WebAuthn user handle (Authelia's export carries none)", async () => {
    const driver = await openSqlDriver({ postgres: pg.config, local: { path: 'memory://' } });
    try {
      const rows = await driver.query<{ rpid: string; username: string; user_id: string }>(
        'SELECT rpid, username, user_id FROM webauthn_users ORDER BY username',
      );
      assert.deepEqual(
        rows.map((r) => [r.rpid, r.username]),
        [
          [RP_ID, 'harry'],
          [RP_ID, 'john'],
        ],
      );
      for (const row of rows) assert.equal(await storage.findUsernameByUserHandle(RP_ID, row.user_id), row.username);
    } finally {
      await driver.close();
    }
  });

  it('a second import skips every credential already stored, with a message, and succeeds', async () => {
    const again = await cli(['import', FIXTURE]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.match(/already stored; skipped/g)?.length, 3);
    assert.match(again.stdout, /webauthn_credentials\[2\]: /);
    assert.match(again.stdout, /Imported 0 WebAuthn credential/);
    assert.equal((await storage.listWebAuthnCredentials('john')).length, 2);
  });

  describe('refuses an invalid file as a whole, naming each problem with its entry, and writes nothing', () => {
    const newKid = Buffer.alloc(32, 7).toString('base64');
    const valid = () => ({ ...fixtureEntries()[0], kid: newKid, description: 'Brand new key' });
    const cases: { name: string; file: () => string | unknown[]; problems: RegExp[] }[] = [
      {
        name: 'wrong encodings, ranges and a repeated credential ID',
        file: () => [
          valid(),
          { ...valid(), kid: 'not_base64-url', description: 'Second' },
          {
            ...valid(),
            kid: Buffer.alloc(16, 1).toString('base64'),
            description: 'Third',
            sign_count: -1,
            aaguid: 'nope',
            created_at: 'yesterday',
          },
          { ...valid(), description: 'Fourth' },
        ],
        problems: [
          /webauthn_credentials\[1\]\.kid: must be standard base64/,
          /webauthn_credentials\[2\]\.sign_count/,
          /webauthn_credentials\[2\]\.aaguid/,
          /webauthn_credentials\[2\]\.created_at/,
          /webauthn_credentials\[3\]\.kid: the same credential ID as webauthn_credentials\[0\]/,
        ],
      },
      {
        name: 'missing fields and wrong types',
        file: () => [valid(), { rpid: RP_ID, username: 'john', transports: 'usb', present: 'yes' }],
        problems: [
          /\[1\]\.created_at: is required/,
          /\[1\]\.kid: is required/,
          /\[1\]\.public_key: is required/,
          /\[1\]\.description: is required/,
          /\[1\]\.transports/,
          /\[1\]\.present: must be true or false/,
        ],
      },
      {
        name: 'a public key that is neither COSE nor a U2F point, and a U2F point without the fido-u2f type',
        file: () => [
          valid(),
          {
            ...valid(),
            kid: Buffer.alloc(20, 2).toString('base64'),
            description: 'Garbage key',
            public_key: Buffer.from('not a key').toString('base64'),
          },
          { ...fixtureEntries()[1], kid: Buffer.alloc(20, 3).toString('base64'), attestation_type: 'packed' },
        ],
        problems: [
          /\[1\]\.public_key: not a COSE key/,
          /\[2\]\.public_key: a raw U2F key, but the attestation type is not 'fido-u2f'/,
        ],
      },
      {
        name: 'a U2F AppID that is not the portal origin, and two keys of one user with one name',
        file: () => [
          valid(),
          {
            ...fixtureEntries()[1],
            kid: Buffer.alloc(20, 4).toString('base64'),
            rpid: 'https://auth.example.com:8443',
          },
          { ...valid(), kid: Buffer.alloc(20, 5).toString('base64') },
        ],
        problems: [
          /\[1\]\.rpid: the U2F AppID 'https:\/\/auth\.example\.com:8443' is not the portal's origin/,
          /\[2\]\.description: 'Brand new key' is also the name of webauthn_credentials\[0\]/,
        ],
      },
      { name: 'an empty list', file: () => [], problems: [/holds no WebAuthn credentials/] },
      { name: 'not YAML', file: () => 'webauthn_credentials: [\n  - {', problems: [/YAML/] },
      {
        name: 'no credentials list',
        file: () => 'totp_configurations: []\n',
        problems: [/webauthn_credentials: must be a list/],
      },
    ];
    for (const { name, file, problems } of cases) {
      it(name, async () => {
        const content = file();
        const path = typeof content === 'string' ? join(dir, 'raw.yml') : writeExport('invalid.yml', content);
        if (typeof content === 'string') writeFileSync(path, content);
        const res = await cli(['import', path]);
        assert.equal(res.code, 1, res.stdout);
        for (const problem of problems) assert.match(res.stderr, problem);
        assert.equal(
          await storage.findWebAuthnCredentialByKid(b64url(newKid)),
          undefined,
          'the valid entry was not stored either',
        );
      });
    }

    it("a name already taken by another of the user's stored keys rolls the whole import back", async () => {
      const path = writeExport('clash.yml', [
        valid(),
        { ...valid(), kid: Buffer.alloc(20, 6).toString('base64'), description: 'YubiKey 5 NFC' },
      ]);
      const res = await cli(['import', path]);
      assert.equal(res.code, 1, res.stdout);
      assert.match(
        res.stderr,
        /webauthn_credentials\[1\]\.description: user 'john' already has a key named 'YubiKey 5 NFC'/,
      );
      assert.equal(await storage.findWebAuthnCredentialByKid(b64url(newKid)), undefined);
    });

    it('an empty rpid when several portals are configured', async () => {
      const path = writeExport('ambiguous.yml', [
        { ...fixtureEntries()[2], kid: Buffer.alloc(20, 8).toString('base64') },
      ]);
      const res = await cli(['import', path], pg, twoPortalsConfigPath);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, /webauthn_credentials\[0\]\.rpid: is empty and 2 portals are configured/);
    });
  });

  it('exports the same format, and export → import into a fresh schema → export gives the same file', async () => {
    const firstPath = join(dir, 'first-export.yml');
    const first = await cli(['export', firstPath]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Exported 3 WebAuthn credential/);
    assert.equal(statSync(firstPath).mode & 0o777, 0o600, 'written for the owner only, as Authelia does');
    const text = readFileSync(firstPath, 'utf8');
    assert.match(text, /^webauthn_credentials:$/m);

    // The Authelia encodings: standard base64 IDs and keys, U2F keys back as raw points under the origin rpid.
    const exported = parseAutheliaExport(text).credentials;
    const byKid = new Map(exported.map((c) => [Buffer.from(c.credentialId).toString('base64'), c]));
    for (const source of fixtureEntries()) {
      const c = byKid.get(source.kid as string);
      assert.ok(c, `${source.description} is exported under its kid`);
      assert.deepEqual(Buffer.from(c.publicKey), b64(source.public_key as string));
      assert.equal(c.signCount, source.sign_count);
      assert.equal(c.rpid, source.attestation_type === 'fido-u2f' ? ORIGIN : source.rpid);
    }

    const refused = await cli(['export', firstPath]);
    assert.equal(refused.code, 1, 'an existing file is never overwritten');
    assert.match(refused.stderr, /already exists/);

    const fresh = await postgresTestTarget();
    try {
      const imported = await cli(['import', firstPath], fresh);
      assert.equal(imported.code, 0, imported.stderr);
      const secondPath = join(dir, 'second-export.yml');
      const second = await cli(['export', secondPath], fresh);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(readFileSync(secondPath, 'utf8'), text);
    } finally {
      await fresh.cleanup();
    }
  });

  it('refuses to export when no key is stored', async () => {
    const empty = await postgresTestTarget();
    try {
      const res = await cli(['export', join(dir, 'nothing.yml')], empty);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /nothing to export/);
    } finally {
      await empty.cleanup();
    }
  });

  it('an imported key made the U2F way signs in through the appid extension, to level 2', async () => {
    // The key pair is made here, so the test holds the private half a real U2F token would keep.
    const token = legacyU2fCredential(ORIGIN, RP_ID);
    token.counter = 5;
    const rawPoint = coseToU2fPoint(token.cosePublicKey)!;
    const path = writeExport('u2f-signin.yml', [
      {
        ...fixtureEntries()[1],
        description: 'U2F key from the test',
        kid: token.id.toString('base64'),
        public_key: Buffer.from(rawPoint).toString('base64'),
        sign_count: 5,
      },
    ]);
    const imported = await cli(['import', path]);
    assert.equal(imported.code, 0, imported.stderr);

    const t = await startGatehouse({ storage: 'postgres', postgres: pg });
    try {
      const cookie = await signIn(t, 'john');
      const options = async (session: string) => {
        const res = await api(t, 'post', '/api/webauthn/authentication/options', session, {});
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body.data as PublicKeyCredentialRequestOptionsJSON;
      };
      const first = await options(cookie);
      assert.equal(first.extensions?.appid, ORIGIN, 'the AppID is offered for the imported U2F key');
      assert.ok(first.allowCredentials?.some((c) => c.id === token.kid));

      // Signed under another AppID: refused, and the session stays at level 1.
      const forged = getAssertion(token, first, {
        useAppid: true,
        rpId: 'https://evil.example.com',
        flags: { up: true, uv: false },
      });
      const refused = await api(t, 'post', '/api/webauthn/authentication', cookie, { response: forged });
      assert.ok(refused.status >= 400 && refused.status < 500, `status ${refused.status}`);
      assert.equal((await state(t, cookie)).authentication_level, 1);

      // A U2F token: user presence only, signing over SHA-256(AppID) and saying so (appid: true).
      const assertion = getAssertion(token, await options(cookie), { flags: { up: true, uv: false } });
      assert.equal(assertion.clientExtensionResults.appid, true);
      const res = await api(t, 'post', '/api/webauthn/authentication', cookie, { response: assertion });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const upgraded = sessionCookieFrom(res) ?? cookie;
      assert.equal((await state(t, upgraded)).authentication_level, 2);
      assert.ok(token.counter > 5);
      assert.equal(
        (await storage.findWebAuthnCredentialByKid(token.kid))?.signCount,
        token.counter,
        'the counter moved on from the imported one',
      );
    } finally {
      await t.close();
    }
  });
});
