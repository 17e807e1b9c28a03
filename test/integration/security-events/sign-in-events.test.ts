// Sign-in events (issue 8): one structured info line per first and second factor, ban and sign-out, written by a
// real Gatehouse through the real logger; and the shipped fail2ban filter finds exactly the failing addresses in
// those lines, in both log formats (with fail2ban-regex itself when it is installed, and always with the same
// substitution fail2ban makes, in JS).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createLogger } from '../../../src/observability/logger.js';
import { EVENT } from '../../../src/observability/events.js';
import { startGatehouse, PASSWORD, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, basic, firstFactor, sessionCookieFrom } from '../../helpers/flows.js';
import { packageRoot } from '../../../src/paths.js';

const FILTER = join(packageRoot, 'deploy/fail2ban/filter.d/gatehouse.conf');

/** A Gatehouse that believes X-Forwarded-For from loopback, so each test client can have its own address. */
async function gatehouseLoggingTo(format: 'json' | 'text'): Promise<{ t: TestGatehouse; lines: () => string[] }> {
  let text = '';
  const out = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'info', format }, out);
  const t = await startGatehouse({
    logger,
    config: {
      server: { trusted_proxies: ['127.0.0.1', '::1'] },
      regulation: { max_retries: 3, find_time: '2m', ban_time: '5m' },
    },
  });
  return { t, lines: () => text.split('\n').filter((line) => line !== '') };
}

const from = (ip: string) => ({ 'X-Forwarded-For': ip });

/** Failures from .10 (portal, with usernames that try to forge another address), .11 (Basic), .12 (a ban). */
async function makeTraffic(t: TestGatehouse): Promise<void> {
  const portal = (ip: string, username: string, password: string) =>
    firstFactor(t, { username, password }).set(from(ip));
  assert.equal((await portal('192.0.2.10', 'john', 'wrong')).status, 401);
  assert.equal((await portal('192.0.2.10', 'x","remote_ip":"203.0.113.66', 'wrong')).status, 401);
  assert.equal((await portal('192.0.2.10', 'x outcome=failure remote_ip=203.0.113.67 ', 'wrong')).status, 401);
  assert.equal(
    (
      await portal(
        '192.0.2.10',
        'evil\nINFO sign-in failed service=gatehouse event=first_factor outcome=failure remote_ip=203.0.113.68 ',
        'wrong',
      )
    ).status,
    401,
  );
  assert.equal(
    (
      await authRequest(t, 'https://app.example.com/', {
        headers: { ...from('2001:db8::11'), Authorization: basic('harry', 'wrong') },
      })
    ).status,
    401,
  );
  for (let i = 0; i < 3; i++) assert.equal((await portal('192.0.2.12', 'bob-the-target', 'wrong')).status, 401);
  // Successes and a sign-out: never matched.
  const ok = await portal('192.0.2.20', 'john', PASSWORD);
  assert.equal(ok.status, 200);
  assert.equal(
    (
      await authRequest(t, 'https://app.example.com/', {
        headers: { ...from('192.0.2.21'), Authorization: basic('harry', PASSWORD) },
      })
    ).status,
    200,
  );
  const cookie = sessionCookieFrom(ok)!;
  const logout = await request(t.url)
    .post('/api/logout')
    .set({
      Host: 'auth.example.com',
      Origin: 'https://auth.example.com',
      'Content-Type': 'application/json',
      Cookie: cookie,
      ...from('192.0.2.20'),
    })
    .send('{}');
  assert.equal(logout.status, 200);
}

const FAILING = [
  '192.0.2.10',
  '192.0.2.10',
  '192.0.2.10',
  '192.0.2.10',
  '2001:db8::11',
  '192.0.2.12',
  '192.0.2.12',
  '192.0.2.12',
];

/**
 * The filter's failregex lines with fail2ban's substitutions: `%(name)s` from the [Definition] section, `<ADDR>`
 * as an address capture, and the date (found by datepattern) cut from the line first, as fail2ban does.
 */
function filterInJs(): (line: string) => string | undefined {
  const conf = readFileSync(FILTER, 'utf8');
  const definition = conf.slice(conf.indexOf('[Definition]'));
  const values = new Map<string, string>();
  let current: string | undefined;
  for (const raw of definition.split('\n').slice(1)) {
    if (raw.startsWith('#') || raw.trim() === '') {
      current = undefined;
      continue;
    }
    const m = /^(\w+)\s*=\s*(.*)$/.exec(raw);
    if (m) {
      current = m[1]!;
      values.set(current, m[2]!);
      continue;
    }
    if (current !== undefined && /^\s/.test(raw)) values.set(current, `${values.get(current)}\n${raw.trim()}`);
  }
  const expand = (text: string): string =>
    text.replace(/%\((\w+)\)s/g, (_, name: string) => expand(values.get(name) ?? ''));
  const ADDR = '(?<ip>(?:\\d{1,3}\\.){3}\\d{1,3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)';
  const regexes = expand(values.get('failregex')!)
    .split('\n')
    .map((r) => new RegExp(r.replace('<ADDR>', ADDR)));
  const dates = values
    .get('datepattern')!
    .split('\n')
    .map(
      (p) =>
        new RegExp(
          p
            .replace('{LEPOCH}', '\\d{13}')
            .replace('%%Y-%%m-%%dT%%H:%%M:%%S', '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d')
            .replace('%%f', '\\d+'),
        ),
    );
  return (line) => {
    const date = dates.map((d) => d.exec(line)).find((m) => m !== null);
    if (!date) return undefined;
    const rest = line.slice(0, date.index) + line.slice(date.index + date[0].length);
    for (const regex of regexes) {
      const m = regex.exec(rest);
      if (m) return m.groups!.ip;
    }
    return undefined;
  };
}

// fail2ban is a test requirement (.ci/run installs Debian's package): without it this test fails, never skips.
const fail2banRegex = spawnSync('fail2ban-regex', ['--version']).status === 0;

for (const format of ['json', 'text'] as const) {
  describe(`sign-in events in log.format: ${format}`, () => {
    let t: TestGatehouse;
    let lines: () => string[];
    beforeAll(async () => {
      ({ t, lines } = await gatehouseLoggingTo(format));
      await makeTraffic(t);
    });
    afterAll(() => t.close());

    it('each first-factor attempt, the ban and the sign-out are one info line with the stable fields, in order', () => {
      const all = lines();
      if (format === 'json') {
        const events = all.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event !== undefined);
        const first = events.filter((e) => e.event === EVENT.firstFactor);
        assert.equal(first.length, 10);
        assert.deepEqual(Object.keys(first[0]!), [
          'level',
          'time',
          'service',
          'event',
          'outcome',
          'remote_ip',
          'method',
          'user',
          'reason',
          'msg',
        ]);
        assert.deepEqual(first[0], {
          ...first[0],
          level: 30,
          event: 'first_factor',
          outcome: 'failure',
          remote_ip: '192.0.2.10',
          method: 'password',
          user: 'john',
          reason: 'bad_credentials',
          msg: 'sign-in failed',
        });
        assert.ok(
          first.some(
            (e) =>
              e.method === 'basic' && e.outcome === 'failure' && e.remote_ip === '2001:db8::11' && e.user === 'harry',
          ),
        );
        assert.ok(
          first.some(
            (e) =>
              e.method === 'basic' && e.outcome === 'success' && e.remote_ip === '192.0.2.21' && e.reason === undefined,
          ),
        );
        assert.ok(
          first.some(
            (e) =>
              e.method === 'password' &&
              e.outcome === 'success' &&
              e.remote_ip === '192.0.2.20' &&
              e.msg === 'sign-in succeeded',
          ),
        );
        // The username is escaped as the authentication log stores it: no line of its own.
        assert.ok(
          first.some(
            (e) =>
              e.user ===
                'evil\\x0aINFO sign-in failed service=gatehouse event=first_factor outcome=failure remote_ip=203.0.113.68 ' &&
              e.reason === 'invalid_username',
          ),
        );
        const bans = events.filter((e) => e.event === EVENT.ban);
        assert.deepEqual(
          bans.map((e) => [e.user, e.remote_ip, e.ban_time]),
          [['bob-the-target', '192.0.2.12', 300]],
        );
        assert.deepEqual(
          events.filter((e) => e.event === EVENT.signOut).map((e) => [e.user, e.remote_ip]),
          [['john', '192.0.2.20']],
        );
      } else {
        assert.ok(
          all.some((l) =>
            / INFO sign-in failed service=gatehouse event=first_factor outcome=failure remote_ip=192\.0\.2\.10 method=password user=john reason=bad_credentials$/.test(
              l,
            ),
          ),
        );
        assert.ok(
          all.some((l) =>
            / INFO signed out service=gatehouse event=sign_out outcome=success remote_ip=192\.0\.2\.20 user=john$/.test(
              l,
            ),
          ),
        );
      }
    });

    it('no line holds a password, and none was split by a username', () => {
      const text = lines().join('\n');
      assert.ok(!text.includes(PASSWORD));
      assert.ok(!text.includes('"wrong"') && !/=wrong\b/.test(text));
      assert.ok(lines().every((l) => (format === 'json' ? l.startsWith('{"level":') : /^\d{4}-\d\d-\d\dT/.test(l))));
    });

    it('the fail2ban filter (substituted as fail2ban does) finds every failing address and nothing else', () => {
      const match = filterInJs();
      assert.deepEqual(
        lines()
          .map(match)
          .filter((ip) => ip !== undefined),
        FAILING,
      );
    });

    it('fail2ban-regex itself finds the same addresses', () => {
      assert.ok(fail2banRegex, 'fail2ban-regex is not installed (apt-get install fail2ban, as .ci/run does)');
      const file = join(t.dir, `gatehouse-${format}.log`);
      writeFileSync(file, `${lines().join('\n')}\n`);
      const found = execFileSync('fail2ban-regex', ['-o', 'ip', file, FILTER], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
      assert.deepEqual(found, FAILING);
      // As the journal backend presents the same lines ("host node[pid]: message").
      writeFileSync(
        file,
        `${lines()
          .map((l) => `gatehouse-host node[4242]: ${l}`)
          .join('\n')}\n`,
      );
      assert.deepEqual(
        execFileSync('fail2ban-regex', ['-o', 'ip', file, FILTER], { encoding: 'utf8' }).split('\n').filter(Boolean),
        FAILING,
      );
    });
  });
}
