// Regulation (SPEC §8, Authelia's semantics) over real storage, on both back ends: a user (or address) is
// banned when its last max_retries attempts all failed within find_time, until ban_time after the last one.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { Regulator } from '../../../src/regulation/regulator.js';
import { openStorage } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { postgresTestTarget, type PostgresTestTarget } from '../../helpers/postgres.js';

type RegulationConfig = Config['regulation'];
const regulation = (overrides: Partial<RegulationConfig> = {}): RegulationConfig => ({
  ...configSchema.shape.regulation.unwrap().parse({ max_retries: 3, find_time: '2m', ban_time: '5m' }),
  ...overrides,
});

interface Who {
  user?: string;
  ip?: string;
}
type Step =
  | { at: number; who: Who; attempt: 'failed' | 'succeeded' | 'refused' }
  | { at: number; who: Who; expectBanned: boolean };

const failed = (at: number, who: Who = {}): Step => ({ at, who, attempt: 'failed' });
const succeeded = (at: number, who: Who = {}): Step => ({ at, who, attempt: 'succeeded' });
/** An attempt refused because a ban was in force: logged with banned=true. */
const refused = (at: number, who: Who = {}): Step => ({ at, who, attempt: 'refused' });
const banned = (at: number, who: Who = {}): Step => ({ at, who, expectBanned: true });
const free = (at: number, who: Who = {}): Step => ({ at, who, expectBanned: false });

const cases: Array<{ rule: string; config?: Partial<RegulationConfig>; steps: Step[] }> = [
  {
    rule: 'max_retries failures within find_time ban the user',
    steps: [failed(0), failed(10), free(11), failed(20), banned(21)],
  },
  {
    rule: 'the ban lasts ban_time after the last failure, then expires',
    steps: [failed(0), failed(10), failed(20), banned(319), free(320), free(321)],
  },
  {
    rule: 'failures spread wider than find_time do not ban',
    steps: [failed(0), failed(70), failed(140), free(141), failed(150), banned(151)],
  },
  {
    rule: 'a success in between resets the count',
    steps: [failed(0), failed(10), succeeded(20), failed(30), failed(40), free(41), failed(50), banned(51)],
  },
  {
    rule: 'attempts refused during a ban are logged but neither extend nor lift it',
    steps: [failed(0), failed(10), failed(20), refused(100), refused(200), refused(250), banned(300), free(321)],
  },
  {
    rule: 'user mode: another user is not banned, even from the same address',
    steps: [failed(0), failed(1), failed(2), free(3, { user: 'b' })],
  },
  {
    rule: 'user mode: the banned user stays banned from another address',
    steps: [failed(0, { ip: '1' }), failed(1, { ip: '2' }), failed(2, { ip: '3' }), banned(3, { ip: '4' })],
  },
  {
    rule: 'ip mode: an address is banned whatever username it tries next',
    config: { modes: ['ip'] },
    steps: [
      failed(0, { user: 'a' }),
      failed(1, { user: 'b' }),
      failed(2, { user: 'c' }),
      banned(3, { user: 'd' }),
      free(3, { user: 'a', ip: '2' }),
    ],
  },
  {
    rule: 'user and ip modes: either ban applies',
    config: { modes: ['user', 'ip'] },
    steps: [
      failed(0, { user: 'a', ip: '1' }),
      failed(1, { user: 'b', ip: '1' }),
      failed(2, { user: 'c', ip: '1' }),
      banned(3, { user: 'z', ip: '1' }),
      free(3, { user: 'a', ip: '9' }),
    ],
  },
  {
    rule: 'max_retries 0 disables regulation',
    config: { max_retries: 0 },
    steps: [...[0, 1, 2, 3, 4, 5].map((at) => failed(at)), free(6)],
  },
  { rule: 'max_retries 1: a single failure bans', config: { max_retries: 1 }, steps: [free(0), failed(1), banned(2)] },
];

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

function runCases(storageOf: () => Storage) {
  it('bytes storage refuses (NUL), controls and megabytes are stored escaped and bounded, and counted under that form', async () => {
    const now = new Date(T0 - 2 * 86_400_000);
    const regulator = new Regulator(storageOf(), regulation(), () => now);
    for (const username of ['nul\u0000user', 'nul\u0000user', 'nul\u0000user']) {
      await regulator.record({
        username,
        ip: '10.254.0.\u0000',
        successful: false,
        authType: '1FA',
        requestUri: `https://app.example.com/\u0000${'x'.repeat(1_000_000)}`,
        requestMethod: 'GET\u0000\r\n',
      });
    }
    assert.equal(await regulator.isBanned('nul\u0000user', '10.254.0.9'), true);
    assert.equal(await regulator.isBanned('nul', '10.254.0.9'), false);
    const [logged] = await storageOf().latestAuthenticationAttempts({
      username: 'nul\\x00user',
      since: new Date(0),
      limit: 1,
    });
    assert.equal(logged?.remoteIp, '10.254.0.\\x00');
    assert.equal(logged?.requestMethod, 'GET\\x00\\x0d\\x0a');
    assert.ok(logged!.requestUri.startsWith('https://app.example.com/\\x00xxx') && logged!.requestUri.length <= 2048);
  });

  cases.forEach(({ rule, config, steps }, index) => {
    it(rule, async () => {
      // Each case has its own users, addresses and day, so cases sharing one database never interfere.
      const user = (who: Who) => `case${index}-${who.user ?? 'a'}`;
      const ip = (who: Who) => `10.${index}.0.${who.ip ?? '1'}`;
      let now = new Date(T0 + index * 86_400_000);
      const regulator = new Regulator(storageOf(), regulation(config), () => now);
      for (const step of steps) {
        now = new Date(T0 + index * 86_400_000 + step.at * 1000);
        if ('attempt' in step) {
          await regulator.record({
            username: user(step.who),
            ip: ip(step.who),
            successful: step.attempt === 'succeeded',
            banned: step.attempt === 'refused',
            authType: '1FA',
            requestUri: 'https://auth.example.com/api/firstfactor',
            requestMethod: 'POST',
          });
        } else {
          assert.equal(
            await regulator.isBanned(user(step.who), ip(step.who)),
            step.expectBanned,
            `at +${step.at}s for ${user(step.who)} from ${ip(step.who)}`,
          );
        }
      }
    });
  });
}

describe('regulation on embedded PGlite', () => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await openStorage({ local: { path: 'memory://' } });
    await storage.migrate();
  });
  afterAll(() => storage.close());
  runCases(() => storage);
});

describe('regulation on PostgreSQL', () => {
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
  runCases(() => replicas[0]!);

  it('two replicas count the same failures: a ban earned across both holds on both', async () => {
    const now = new Date(T0 - 86_400_000);
    const [first, second] = replicas.map((storage) => new Regulator(storage, regulation(), () => now)) as [
      Regulator,
      Regulator,
    ];
    const fail = (regulator: Regulator) =>
      regulator.record({
        username: 'shared',
        ip: '10.255.0.1',
        successful: false,
        authType: 'BASIC',
        requestUri: '/api/verify',
        requestMethod: 'GET',
      });
    await fail(first);
    await fail(second);
    assert.deepEqual(
      await Promise.all([first.isBanned('shared', '10.255.0.1'), second.isBanned('shared', '10.255.0.1')]),
      [false, false],
    );
    await fail(first);
    assert.deepEqual(
      await Promise.all([first.isBanned('shared', '10.255.0.1'), second.isBanned('shared', '10.255.0.1')]),
      [true, true],
    );
  });
});
