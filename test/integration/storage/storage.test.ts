// The Storage contract, one body run against both back ends: PostgreSQL (a schema of its own) and embedded
// PGlite in memory. Same SQL, same code above the driver, so the same expectations.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openStorage } from '../../../src/storage/open.js';
import { loadMigrations } from '../../../src/storage/migrate.js';
import type { AuthenticationAttempt, NewWebAuthnCredential, Storage } from '../../../src/storage/storage.js';
import { postgresTestTarget } from '../../helpers/postgres.js';

interface OpenedBackend {
  storage: Storage;
  /** A second Storage on the same database (another replica); the same one where only one can exist. */
  sibling: Storage;
  cleanup(): Promise<void>;
}

const backends: Array<{ name: string; open(): Promise<OpenedBackend> }> = [
  {
    name: 'PostgreSQL',
    async open() {
      const target = await postgresTestTarget();
      const config = { postgres: target.config, local: { path: 'unused' } };
      const [storage, sibling] = await Promise.all([openStorage(config), openStorage(config)]);
      return {
        storage,
        sibling,
        async cleanup() {
          await Promise.all([storage.close(), sibling.close()]);
          await target.cleanup();
        },
      };
    },
  },
  {
    name: 'embedded PGlite',
    async open() {
      const storage = await openStorage({ local: { path: 'memory://' } });
      return { storage, sibling: storage, cleanup: () => storage.close() };
    },
  },
];

const T0 = new Date('2030-01-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function attempt(overrides: Partial<AuthenticationAttempt> & { username: string; time: Date }): AuthenticationAttempt {
  return {
    successful: false,
    banned: false,
    authType: '1FA',
    remoteIp: '192.0.2.1',
    requestUri: 'https://auth.example.com/api/firstfactor',
    requestMethod: 'POST',
    ...overrides,
  };
}

function credential(
  overrides: Partial<NewWebAuthnCredential> & { username: string; kid: string },
): NewWebAuthnCredential {
  return {
    createdAt: T0,
    rpid: 'auth.example.com',
    description: 'key',
    aaguid: '2fc0579f-8113-47ea-b116-bb5a8db9202a',
    attestationType: 'none',
    attachment: 'cross-platform',
    transports: ['usb', 'nfc'],
    signCount: 7,
    discoverable: false,
    present: true,
    verified: false,
    backupEligible: false,
    backupState: false,
    publicKey: new Uint8Array([1, 2, 3, 250, 0, 255]),
    attestation: new Uint8Array([9, 8, 7]),
    legacyU2fAppid: null,
    ...overrides,
  };
}

for (const backend of backends) {
  describe(`Storage contract on ${backend.name}`, () => {
    let opened: OpenedBackend;
    let storage: Storage;
    beforeAll(async () => {
      opened = await backend.open();
      storage = opened.storage;
    });
    afterAll(() => opened.cleanup());

    describe('migrations', () => {
      it('two replicas migrating at once apply every migration exactly once, in order', async () => {
        const names = (await loadMigrations()).map((migration) => migration.name);
        const [first, second] = await Promise.all([storage.migrate(), opened.sibling.migrate()]);
        const applied = [...first, ...second];
        assert.deepEqual([...applied].sort(), names);
        assert.ok(first.length === 0 || second.length === 0, 'one replica applied all of them, the other none');
        assert.deepEqual(first.length > 0 ? first : second, names);
      });

      it('migrating again applies nothing (idempotent)', async () => {
        assert.deepEqual(await storage.migrate(), []);
        assert.deepEqual(await opened.sibling.migrate(), []);
      });

      it('ping answers once the database is reachable', async () => {
        await storage.ping();
      });
    });

    describe('authentication log', () => {
      const username = `log-${randomUUID()}`;
      beforeAll(async () => {
        const attempts = [
          attempt({ username, time: at(0), remoteIp: '192.0.2.1' }),
          attempt({
            username,
            time: at(10),
            remoteIp: '192.0.2.2',
            successful: true,
            authType: 'BASIC',
            requestMethod: 'GET',
          }),
          attempt({ username, time: at(20), remoteIp: '192.0.2.1', banned: true }),
          attempt({
            username,
            time: at(30),
            remoteIp: '192.0.2.2',
            requestUri: 'https://app.example.com/a?b=c&d=\'e"',
          }),
          attempt({ username: `${username}-other`, time: at(25), remoteIp: '192.0.2.1' }),
        ];
        for (const entry of attempts) await storage.appendAuthenticationLog(entry);
      });

      it('returns every field as stored, newest first', async () => {
        const latest = await storage.latestAuthenticationAttempts({ username, since: at(-1), limit: 10 });
        assert.deepEqual(
          latest.map((a) => a.time.getTime()),
          [30, 20, 10, 0].map((s) => at(s).getTime()),
        );
        assert.deepEqual(
          latest[2],
          attempt({
            username,
            time: at(10),
            remoteIp: '192.0.2.2',
            successful: true,
            authType: 'BASIC',
            requestMethod: 'GET',
          }),
        );
        assert.equal(latest[0]!.requestUri, 'https://app.example.com/a?b=c&d=\'e"');
        assert.equal(latest[1]!.banned, true);
      });

      const filters: Array<{
        rule: string;
        query: { username?: boolean; remoteIp?: string; since: number; limit: number; excludeBanned?: boolean };
        times: number[];
      }> = [
        { rule: 'limit keeps the newest', query: { username: true, since: -1, limit: 2 }, times: [30, 20] },
        {
          rule: 'since leaves older attempts out (inclusive bound)',
          query: { username: true, since: 10, limit: 10 },
          times: [30, 20, 10],
        },
        {
          rule: 'excludeBanned leaves refused attempts out',
          query: { username: true, since: -1, limit: 10, excludeBanned: true },
          times: [30, 10, 0],
        },
        {
          rule: 'username and address together',
          query: { username: true, remoteIp: '192.0.2.1', since: -1, limit: 10 },
          times: [20, 0],
        },
        {
          rule: 'address alone spans users',
          query: { remoteIp: '192.0.2.1', since: -1, limit: 10 },
          times: [25, 20, 0],
        },
        { rule: 'a limit of 0 returns nothing', query: { username: true, since: -1, limit: 0 }, times: [] },
      ];
      for (const { rule, query, times } of filters) {
        it(`filter: ${rule}`, async () => {
          const latest = await storage.latestAuthenticationAttempts({
            ...(query.username ? { username } : {}),
            ...(query.remoteIp ? { remoteIp: query.remoteIp } : {}),
            since: at(query.since),
            limit: query.limit,
            ...(query.excludeBanned ? { excludeBanned: true } : {}),
          });
          // The address-only query may see other tests' rows at other times; keep this test's window.
          const mine = latest.filter((a) => a.username.startsWith(username));
          assert.deepEqual(
            mine.map((a) => (a.time.getTime() - T0.getTime()) / 1000),
            times,
          );
        });
      }
    });

    describe('preferences', () => {
      it('are absent until saved, then loaded, then overwritten', async () => {
        const username = `prefs-${randomUUID()}`;
        assert.equal(await storage.loadPreferences(username), undefined);
        await storage.savePreferences({ username, secondFactorMethod: 'webauthn' });
        assert.deepEqual(await storage.loadPreferences(username), { username, secondFactorMethod: 'webauthn' });
        await storage.savePreferences({ username, secondFactorMethod: null });
        assert.deepEqual(await storage.loadPreferences(username), { username, secondFactorMethod: null });
      });
    });

    describe('WebAuthn credentials', () => {
      const username = `webauthn-${randomUUID()}`;
      const kid = `kid-${randomUUID()}`;
      let id: number;

      it('a saved credential is listed and found by its ID with every field intact', async () => {
        const saved = await storage.saveWebAuthnCredential(credential({ username, kid }));
        assert.equal(saved.saved, true);
        id = saved.saved ? saved.id : NaN;
        const expected = { ...credential({ username, kid }), id, lastUsedAt: null, cloneWarning: false };
        assert.deepEqual(await storage.listWebAuthnCredentials(username), [expected]);
        assert.deepEqual(await storage.findWebAuthnCredentialByKid(kid), expected);
        assert.deepEqual(await storage.listWebAuthnCredentials(username, 'other.example.com'), []);
        assert.equal(await storage.findWebAuthnCredentialByKid(`${kid}-unknown`), undefined);
      });

      it('a second key needs its own description and its own credential ID', async () => {
        assert.deepEqual(await storage.saveWebAuthnCredential(credential({ username, kid: `${kid}-2` })), {
          saved: false,
          conflict: 'description',
        });
        assert.deepEqual(await storage.saveWebAuthnCredential(credential({ username, kid, description: 'another' })), {
          saved: false,
          conflict: 'kid',
        });
        const second = await storage.saveWebAuthnCredential(
          credential({
            username,
            kid: `${kid}-2`,
            description: 'phone',
            attestation: null,
            aaguid: null,
            transports: [],
            discoverable: true,
          }),
        );
        assert.equal(second.saved, true);
        const listed = await storage.listWebAuthnCredentials(username);
        assert.deepEqual(
          listed.map((c) => [c.description, c.attestation, c.aaguid, c.transports, c.discoverable]),
          [
            ['key', new Uint8Array([9, 8, 7]), '2fc0579f-8113-47ea-b116-bb5a8db9202a', ['usb', 'nfc'], false],
            ['phone', null, null, [], true],
          ],
        );
      });

      it('usage updates the sign count, last use and clone warning', async () => {
        await storage.updateWebAuthnCredentialUsage(id, 4_000_000_000, at(60), true);
        const found = await storage.findWebAuthnCredentialByKid(kid);
        assert.deepEqual([found?.signCount, found?.lastUsedAt, found?.cloneWarning], [4_000_000_000, at(60), true]);
      });

      it('renaming is scoped to the owner and keeps descriptions unique', async () => {
        assert.equal(await storage.renameWebAuthnCredential(`${username}-intruder`, id, 'stolen'), 'not-found');
        assert.equal(await storage.renameWebAuthnCredential(username, id, 'phone'), 'duplicate');
        assert.equal(await storage.renameWebAuthnCredential(username, id, 'desk key'), 'renamed');
        assert.equal((await storage.findWebAuthnCredentialByKid(kid))?.description, 'desk key');
      });

      it('deleting is scoped to the owner', async () => {
        assert.equal(await storage.deleteWebAuthnCredential(`${username}-intruder`, id), false);
        assert.equal(await storage.deleteWebAuthnCredential(username, id), true);
        assert.equal(await storage.deleteWebAuthnCredential(username, id), false);
        assert.deepEqual(
          (await storage.listWebAuthnCredentials(username)).map((c) => c.description),
          ['phone'],
        );
      });
    });

    describe('WebAuthn user handles', () => {
      it('are random, stable per user and relying party, and resolve back to the user', async () => {
        const username = `handle-${randomUUID()}`;
        const handles = await Promise.all([
          storage.getOrCreateWebAuthnUserHandle('auth.example.com', username),
          opened.sibling.getOrCreateWebAuthnUserHandle('auth.example.com', username),
        ]);
        assert.equal(handles[0], handles[1], 'replicas racing on the first registration agree');
        const handle = handles[0];
        assert.match(handle, /^[A-Za-z0-9_-]{43}$/);
        assert.equal(await storage.getOrCreateWebAuthnUserHandle('auth.example.com', username), handle);
        assert.notEqual(await storage.getOrCreateWebAuthnUserHandle('auth.example.org', username), handle);
        assert.notEqual(await storage.getOrCreateWebAuthnUserHandle('auth.example.com', `${username}-2`), handle);
        assert.equal(await storage.findUsernameByUserHandle('auth.example.com', handle), username);
        assert.equal(await storage.findUsernameByUserHandle('auth.example.org', handle), undefined);
        assert.equal(await storage.findUsernameByUserHandle('auth.example.com', 'unknown'), undefined);
      });
    });

    describe('identity verification', () => {
      const issue = async (expiresAt: Date) => {
        const jti = randomUUID();
        await storage.recordIdentityVerification({
          jti,
          issuedAt: at(0),
          issuedIp: '192.0.2.1',
          expiresAt,
          username: 'alice',
          action: 'register-webauthn',
        });
        return jti;
      };

      it('a token is consumed by exactly one of many concurrent attempts, across replicas', async () => {
        const jti = await issue(at(300));
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 === 0 ? storage : opened.sibling).consumeIdentityVerification(jti, '192.0.2.9', at(10)),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await storage.consumeIdentityVerification(jti, '192.0.2.9', at(11)), false);
      });

      const refusals: Array<{ rule: string; jti: () => Promise<string>; when: number }> = [
        { rule: 'an expired token', jti: () => issue(at(300)), when: 300 },
        { rule: 'an unknown token', jti: async () => randomUUID(), when: 10 },
        { rule: 'a malformed token ID (never a database error)', jti: async () => "x' OR '1'='1", when: 10 },
      ];
      for (const { rule, jti, when } of refusals) {
        it(`refuses ${rule}`, async () => {
          assert.equal(await storage.consumeIdentityVerification(await jti(), '192.0.2.9', at(when)), false);
        });
      }
    });
  });
}
