// Issue 7: every field of every JSON API body, and every body as a whole, fuzzed with hostile values against a real
// Gatehouse (real Redis, real PostgreSQL), anonymous, signed in and elevated. The rule: never a 5xx, never a stack
// trace or an echo of the input; a refusal is a short JSON KO with a 4xx.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { signIn } from '../../helpers/flows.js';
import { elevatedSession, testUsers } from '../webauthn/support.js';

const HOST = 'auth.example.com';
const ORIGIN = `https://${HOST}`;
const MARK = '@@FUZZ@@';

/** Raw JSON fragments put in place of one field (raw, so that numbers JSON.stringify cannot make are sent too). */
const HOSTILE_VALUES: Array<[label: string, json: string]> = [
  ['a NUL byte', '"\\u0000"'],
  ['a NUL inside text', '"ab\\u0000cd"'],
  ['C0 and C1 controls', '"\\u0001\\u001b[2J\\u007f\\u0085\\u009b"'],
  ['CR LF (log forging)', '"x\\r\\nforged: yes"'],
  ['a lone high surrogate', '"\\ud800"'],
  ['a lone low surrogate', '"x\\udfffy"'],
  ['line and paragraph separators', '"\\u2028\\u2029"'],
  ['bidirectional overrides', '"\\u202egnp.exe"'],
  ['an empty string', '""'],
  ['blanks', '"   "'],
  ['a 15 kB string', JSON.stringify('x'.repeat(15_000))],
  ['a 1 MB string', JSON.stringify('y'.repeat(1_000_000))],
  ['percent-encoded NUL', '"%00"'],
  ['a path climb', '"../../../../etc/passwd"'],
  ['markup', '"<script>alert(1)</script>"'],
  ['SQL', `"' OR 1=1 --"`],
  ['zero', '0'],
  ['a negative number', '-1'],
  ['a fraction', '0.5'],
  ['a huge integer', '123456789012345678901234567890123456789'],
  ['an overflowing number', '1e400'],
  ['an underflowing number', '-1e400'],
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
  ['an empty array', '[]'],
  ['an array of strings', '["a","b"]'],
  ['an array of mixed values', '[1,"a",null,{}]'],
  ['an empty object', '{}'],
  ['a nested object', '{"a":{"b":{"c":{"d":"e"}}}}'],
  ['a query operator object', '{"$gt":""}'],
  ['a __proto__ object', '{"__proto__":{"polluted":true}}'],
  ['2,000 nested arrays', `${'['.repeat(2_000)}${']'.repeat(2_000)}`],
  ['a toString trap', '{"toString":"x","valueOf":1,"length":5}'],
];

/** Whole bodies (with their content type) sent in place of the JSON object. */
const HOSTILE_BODIES: Array<[label: string, type: string | undefined, body: string | Buffer]> = [
  ['no body', 'application/json', ''],
  ['JSON null', 'application/json', 'null'],
  ['a JSON array', 'application/json', '[]'],
  ['a JSON string', 'application/json', '"text"'],
  ['a JSON number', 'application/json', '12'],
  ['JSON true', 'application/json', 'true'],
  ['truncated JSON', 'application/json', '{"username":'],
  ['not JSON at all', 'application/json', 'username=john&password=x'],
  ['a NUL byte', 'application/json', '\u0000'],
  [
    'invalid UTF-8',
    'application/json',
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]),
  ],
  ['a UTF-8 BOM', 'application/json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')])],
  ['duplicate keys', 'application/json', '{"a":1,"a":{"b":2}}'],
  ['a __proto__ key', 'application/json', '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}'],
  ['a 1 MB object', 'application/json', JSON.stringify({ pad: 'z'.repeat(1_000_000) })],
  ['50,000 nested arrays', 'application/json', `${'['.repeat(50_000)}${']'.repeat(50_000)}`],
  ['a UTF-16 charset', 'application/json; charset=utf-16', '{}'],
  ['an unknown charset', 'application/json; charset=klingon', '{}'],
  ['a form', 'application/x-www-form-urlencoded', 'username=john&password=x'],
  ['plain text', 'text/plain', '{"username":"john"}'],
  ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'],
  ['a JSON-like type', 'application/merge-patch+json', '{}'],
  ['no content type', undefined, '{"a":1}'],
];

type Session = 'anonymous' | 'signed-in' | 'elevated';

interface Route {
  method: 'post' | 'put' | 'delete' | 'get';
  path: string;
  session: Session;
  /** A plausible body; each dotted path in `fields` is fuzzed in turn. */
  body?: Record<string, unknown>;
  fields?: string[];
}

const registration = {
  id: 'AAEC',
  rawId: 'AAEC',
  type: 'public-key',
  response: { clientDataJSON: 'eyJ9', attestationObject: 'o2Nm', transports: ['usb'] },
  clientExtensionResults: { credProps: { rk: true } },
  authenticatorAttachment: 'cross-platform',
};
const assertion = {
  id: 'AAEC',
  rawId: 'AAEC',
  type: 'public-key',
  response: { clientDataJSON: 'eyJ9', authenticatorData: 'AAAA', signature: 'MEUC', userHandle: 'dXNlcg' },
  clientExtensionResults: { appid: false },
  authenticatorAttachment: 'platform',
};
const REGISTRATION_FIELDS = [
  'response',
  'response.id',
  'response.rawId',
  'response.type',
  'response.response',
  'response.response.clientDataJSON',
  'response.response.attestationObject',
  'response.response.transports',
  'response.clientExtensionResults',
  'response.clientExtensionResults.credProps',
  'response.clientExtensionResults.credProps.rk',
  'response.authenticatorAttachment',
];
const ASSERTION_FIELDS = [
  'response',
  'response.id',
  'response.rawId',
  'response.type',
  'response.response',
  'response.response.clientDataJSON',
  'response.response.authenticatorData',
  'response.response.signature',
  'response.response.userHandle',
  'response.clientExtensionResults',
  'response.clientExtensionResults.appid',
  'response.authenticatorAttachment',
  'targetURL',
  'requestMethod',
  'keepMeLoggedIn',
];
const SIGN_IN = {
  response: assertion,
  targetURL: 'https://app.example.com/',
  requestMethod: 'GET',
  keepMeLoggedIn: false,
};

const ROUTES: Route[] = [
  {
    method: 'post',
    path: '/api/firstfactor',
    session: 'anonymous',
    body: {
      username: 'fuzzed',
      password: 'wrong',
      keepMeLoggedIn: false,
      targetURL: 'https://app.example.com/',
      requestMethod: 'GET',
    },
    fields: ['username', 'password', 'keepMeLoggedIn', 'targetURL', 'requestMethod'],
  },
  {
    method: 'post',
    path: '/api/logout',
    session: 'anonymous',
    body: { targetURL: 'https://app.example.com/' },
    fields: ['targetURL'],
  },
  {
    method: 'post',
    path: '/api/identity/start',
    session: 'signed-in',
    body: { action: 'register_webauthn' },
    fields: ['action'],
  },
  {
    method: 'post',
    path: '/api/identity/finish',
    session: 'signed-in',
    body: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.x' },
    fields: ['token'],
  },
  { method: 'post', path: '/api/webauthn/registration/options', session: 'elevated', body: {} },
  {
    method: 'post',
    path: '/api/webauthn/registration',
    session: 'elevated',
    body: { description: 'Key', response: registration },
    fields: ['description', ...REGISTRATION_FIELDS],
  },
  { method: 'post', path: '/api/webauthn/authentication/options', session: 'signed-in', body: {} },
  {
    method: 'post',
    path: '/api/webauthn/authentication',
    session: 'signed-in',
    body: SIGN_IN,
    fields: ASSERTION_FIELDS,
  },
  { method: 'post', path: '/api/webauthn/passkey/options', session: 'anonymous', body: {} },
  { method: 'post', path: '/api/webauthn/passkey', session: 'anonymous', body: SIGN_IN, fields: ASSERTION_FIELDS },
  { method: 'get', path: '/api/webauthn/credentials', session: 'signed-in' },
  {
    method: 'put',
    path: '/api/webauthn/credentials/1',
    session: 'signed-in',
    body: { description: 'Renamed' },
    fields: ['description'],
  },
  { method: 'delete', path: '/api/webauthn/credentials/999999', session: 'signed-in' },
  { method: 'get', path: '/api/state', session: 'anonymous' },
];

/** `body` as JSON text with the value at the dotted `path` replaced by the raw fragment (or removed). */
function withField(body: Record<string, unknown>, path: string, json: string | undefined): string {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = path.split('.');
  let holder = copy;
  for (const key of keys.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (json === undefined) delete holder[last];
  else holder[last] = MARK;
  return JSON.stringify(copy).replace(JSON.stringify(MARK), () => json ?? '');
}

/** A stack frame, a file path or an error class name in a reply means something leaked. */
const LEAK =
  /\bat [\w.<>]+ \(|node:internal|node_modules|\/src\/|\.[jt]s:\d+|TypeError|SyntaxError|RangeError|ZodError|\$ZodError/;

interface Probe {
  what: string;
  status: number;
  text: string;
  type: string;
}

describe('issue 7: hostile JSON API bodies never cause a 5xx or a leak', () => {
  let t: TestGatehouse;
  const cookies: Partial<Record<Session, string>> = {};

  beforeAll(async () => {
    t = await startGatehouse({
      sessions: 'redis',
      storage: 'postgres',
      users: testUsers(4),
      config: { webauthn: { enable_passkey_login: true } },
    });
    cookies['signed-in'] = await signIn(t, 'user01');
    cookies.elevated = await elevatedSession(t, 'user02');
  });
  afterAll(async () => t.close());

  function send(route: Route, body: string | Buffer | undefined, type: string | undefined, path = route.path) {
    let req = request(t.url)[route.method](path).set('Host', HOST).set('Origin', ORIGIN);
    const cookie = cookies[route.session];
    if (cookie) req = req.set('Cookie', cookie);
    if (type !== undefined) req = req.set('Content-Type', type);
    if (body !== undefined && body.length > 0) req = req.send(body);
    return req;
  }

  async function probeAll(jobs: Array<{ what: string; run: () => request.Test }>): Promise<Probe[]> {
    const results: Probe[] = [];
    const queue = [...jobs];
    // A few at a time: enough to overlap, not so many that the shared machine is swamped.
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          const res = await job.run();
          results.push({
            what: job.what,
            status: res.status,
            text: res.text ?? '',
            type: String(res.headers['content-type'] ?? ''),
          });
        }
      }),
    );
    return results;
  }

  function assertSafe(probes: Probe[]): void {
    const problems: string[] = [];
    for (const probe of probes) {
      if (probe.status >= 500) problems.push(`${probe.what}: ${probe.status} ${probe.text.slice(0, 200)}`);
      if (LEAK.test(probe.text)) problems.push(`${probe.what}: leaks ${probe.text.slice(0, 200)}`);
      if (probe.status >= 400) {
        if (!probe.type.startsWith('application/json')) {
          problems.push(`${probe.what}: a ${probe.status} that is not JSON (${probe.type})`);
          continue;
        }
        const body = JSON.parse(probe.text) as { status?: unknown; message?: unknown };
        if (body.status !== 'KO' || typeof body.message !== 'string' || body.message.length > 200) {
          problems.push(`${probe.what}: refusal is not a short KO: ${probe.text.slice(0, 200)}`);
        } else if (
          /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/.test(body.message) ||
          /<script>|OR 1=1|etc\/passwd|yyyyyyyyyy|xxxxxxxxxx/.test(body.message)
        ) {
          problems.push(`${probe.what}: refusal echoes the input: ${JSON.stringify(body.message)}`);
        }
      }
    }
    assert.deepEqual(problems, [], `${problems.length} of ${probes.length} replies break the rule`);
  }

  it('every field of every body, replaced by each hostile value or left out', async () => {
    const jobs = ROUTES.flatMap((route) =>
      (route.fields ?? []).flatMap((field) => [
        ...HOSTILE_VALUES.map(([label, json]) => ({
          what: `${route.method.toUpperCase()} ${route.path} ${field} = ${label}`,
          run: () => send(route, withField(route.body!, field, json), 'application/json'),
        })),
        {
          what: `${route.method.toUpperCase()} ${route.path} without ${field}`,
          run: () => send(route, withField(route.body!, field, undefined), 'application/json'),
        },
      ]),
    );
    assert.ok(jobs.length > 1_000, `${jobs.length} probes`);
    assertSafe(await probeAll(jobs));
  });

  it('every route, with each hostile whole body and content type', async () => {
    const jobs = ROUTES.flatMap((route) =>
      HOSTILE_BODIES.map(([label, type, body]) => ({
        what: `${route.method.toUpperCase()} ${route.path} with ${label}`,
        run: () => send(route, body, type),
      })),
    );
    assertSafe(await probeAll(jobs));
  });

  it('hostile credential IDs in the path', async () => {
    const rename = ROUTES.find((r) => r.method === 'put')!;
    const remove = ROUTES.find((r) => r.method === 'delete')!;
    const ids = [
      '0',
      '-1',
      '1e3',
      '01',
      'abc',
      '%00',
      '%2e%2e',
      '9'.repeat(400),
      '1%0d%0aX: y',
      '%ff%fe',
      '1.5',
      '0x10',
      ' 1'.replace(' ', '%20'),
    ];
    const jobs = ids.flatMap((id) =>
      [rename, remove].map((route) => ({
        what: `${route.method.toUpperCase()} /api/webauthn/credentials/${id}`,
        run: () =>
          send(
            route,
            route.body ? JSON.stringify(route.body) : undefined,
            'application/json',
            `/api/webauthn/credentials/${id}`,
          ),
      })),
    );
    assertSafe(await probeAll(jobs));
  });

  it('a targetURL over 4,096 characters is refused as too long (not "must be a string"), at both factors', async () => {
    const long = `https://app.example.com/${'a'.repeat(4_100)}`;
    for (const route of ROUTES.filter((r) =>
      ['/api/firstfactor', '/api/webauthn/authentication', '/api/webauthn/passkey'].includes(r.path),
    )) {
      const res = await send(route, JSON.stringify({ ...route.body, targetURL: long }), 'application/json');
      assert.equal(res.status, 400, route.path);
      assert.equal(res.body.message, 'targetURL must be at most 4096 characters long.', route.path);
    }
  });

  it('is still healthy and signs people in afterwards', async () => {
    assert.equal((await request(t.url).get('/api/health')).status, 200);
    await signIn(t, 'user03');
  });
});
