// Issue 7 item 2: no silent fallbacks. Every Authelia key Gatehouse does not honour is in one table and is either
// refused (it decides who gets in or where data lives) or warned about with what changes for the users.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';
import { loadConfig } from '../../../src/cli/load-config.js';
import { AUTHELIA_KEYS } from '../../../src/config/authelia-keys.js';
import { schemaLeafPaths } from '../../../src/config/env.js';
import { loadContent, problemAt, problemsOf, tempFile, withMinimal } from './config-files.js';

const USERS_FILE = { authentication_backend: { file: { path: './users_database.yml' } } };
const SECRET = 'x'.repeat(40);
/** What a key's section needs to be valid on its own, so that only the key under test is reported. */
const CONTEXT: Record<string, Record<string, unknown>> = {
  'session.redis': {
    session: { secret: SECRET, redis: { host: 'redis' } },
    identity_validation: { jwt_secret: SECRET },
  },
  'session.redis.high_availability': { session: { redis: { high_availability: { sentinel_name: 'main' } } } },
  'notifier.smtp': { notifier: { smtp: { address: 'smtp://mail.example.com:25', sender: 'gate@example.com' } } },
};
const deepMerge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
  const out = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const before = out[key];
    out[key] =
      typeof before === 'object' &&
      before !== null &&
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value)
        ? deepMerge(before as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
};
const baseFor = (key: string): Record<string, unknown> =>
  Object.entries(CONTEXT).reduce(
    (base, [prefix, extra]) => (key.startsWith(`${prefix}.`) ? deepMerge(base, extra) : base),
    withMinimal(USERS_FILE),
  );

/** `withMinimal` with `value` set at the dotted `key` (maps created on the way). */
function withKey(key: string, value: unknown, base: Record<string, unknown> = baseFor(key)): Record<string, unknown> {
  const copy = structuredClone(base);
  const parts = key.split('.');
  let node = copy;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
  return copy;
}

/** A value that triggers the entry: conditional entries are tried with the values their conditions look for. */
function triggeringValue(entry: (typeof AUTHELIA_KEYS)[number]): unknown {
  const candidates: unknown[] = [{ enabled: true }, true, 'required', { some_option: 'x' }];
  return entry.when ? candidates.find((value) => entry.when!(value)) : { some_option: 'x' };
}

describe('the Authelia key table', () => {
  it('every key is refused or warned about, with a text, and none is a key Gatehouse reads', () => {
    const schemaKeys = schemaLeafPaths().map((leaf) => leaf.path.join('.'));
    for (const entry of AUTHELIA_KEYS) {
      assert.ok(entry.text.length > 0, entry.key);
      assert.ok(
        !schemaKeys.some((key) => key === entry.key || key.startsWith(`${entry.key}.`)),
        `${entry.key} shadows a Gatehouse key`,
      );
    }
  });

  it('docs/configuration.md lists every entry with its action, and nothing else', () => {
    const docs = readFileSync(join(packageRoot, 'docs', 'configuration.md'), 'utf8');
    const section = docs.slice(
      docs.indexOf('## Authelia keys'),
      docs.indexOf('\n## ', docs.indexOf('## Authelia keys') + 1),
    );
    const rows = [...section.matchAll(/^\| `([^`]+)`[^|]*\| (refuse|warn|map) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(
      rows,
      AUTHELIA_KEYS.map((entry) => `${entry.key} ${entry.action}`),
    );
  });

  for (const entry of AUTHELIA_KEYS.filter((other) => other.action !== 'map')) {
    it(`'${entry.key}'${entry.when ? ' (when its condition holds)' : ''} is ${entry.action === 'refuse' ? 'refused naming the key' : 'warned about with what changes'}`, () => {
      const content = withKey(entry.key, triggeringValue(entry));
      if (entry.action === 'refuse') {
        const problem = problemAt(
          problemsOf(() => loadContent(content)),
          entry.key,
        );
        assert.ok(problem.message.includes(entry.text));
        return;
      }
      // The first matching entry decides: a conditional refusal listed earlier may take this value.
      const first = AUTHELIA_KEYS.find(
        (other) =>
          (other.key === entry.key || entry.key.startsWith(`${other.key}.`)) &&
          (!other.when || other.when(triggeringValue(entry))),
      );
      if (first !== entry) return;
      const { warnings } = loadContent(content);
      assert.ok(
        warnings.some(
          (warning) => warning.startsWith(`key '${entry.key}' is an Authelia option`) && warning.endsWith(entry.text),
        ),
        `no warning for ${entry.key}`,
      );
    });
  }
});

describe('who gets in: refused, never a fallback', () => {
  it('authentication_backend.ldap alone is read (Authelia keys), and the default users file is not checked', () => {
    const content = withMinimal({
      authentication_backend: {
        ldap: {
          address: 'ldap://ldap.example.com',
          base_dn: 'dc=example,dc=com',
          implementation: 'lldap',
          user: 'uid=gatehouse,ou=people,dc=example,dc=com',
          password: 'service-password',
        },
      },
    });
    const { config } = loadConfig({ files: [tempFile(content)], env: {}, checkReferencedFiles: true });
    assert.equal(config.authentication_backend.ldap?.address.url, 'ldap://ldap.example.com:389');
  });

  it('authentication_backend with both file and ldap is refused: one users backend', () => {
    const content = withMinimal({
      authentication_backend: {
        file: { path: './users.yml' },
        ldap: { address: 'ldap://ldap.example.com', base_dn: 'dc=example,dc=com' },
      },
    });
    const problems = problemsOf(() => loadContent(content));
    assert.match(problemAt(problems, 'authentication_backend').message, /names both file and ldap/);
  });

  it('authentication_backend without file (another section named) is refused rather than reading ./users_database.yml', () => {
    const problems = problemsOf(() => loadContent(withMinimal({ authentication_backend: { refresh_interval: '5m' } })));
    assert.match(
      problemAt(problems, 'authentication_backend.file').message,
      /will not fall back to \.\/users_database\.yml/,
    );
  });

  it('no authentication_backend at all keeps the documented default users file', () => {
    assert.equal(loadContent(withMinimal()).config.authentication_backend.file.path, './users_database.yml');
  });

  it('server.tls is refused: Gatehouse would listen in plain HTTP', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ server: { tls: { certificate: '/c.pem', key: '/k.pem' } } })),
    );
    assert.match(problemAt(problems, 'server.tls').message, /does not serve TLS itself/);
  });

  it('a security option switched on is refused; switched off it is only a warning', () => {
    assert.match(
      problemAt(
        problemsOf(() => loadContent(withKey('webauthn.metadata', { enabled: true }))),
        'webauthn.metadata',
      ).message,
      /metadata service/,
    );
    assert.ok(
      loadContent(withKey('webauthn.metadata', { enabled: false })).warnings.some((w) =>
        w.startsWith("key 'webauthn.metadata'"),
      ),
    );
    assert.equal(
      loadContent(withKey('webauthn.selection_criteria.user_verification', 'required')).config.webauthn
        .user_verification,
      'required',
    );
    assert.ok(
      loadContent(withKey('webauthn.selection_criteria.authenticator_attachment', 'platform')).warnings.some((w) =>
        w.startsWith("key 'webauthn.selection_criteria'"),
      ),
    );
  });
});

describe('where data lives: refused, never a fallback', () => {
  it('storage.mysql is refused naming PostgreSQL as the way', () => {
    const problems = problemsOf(() =>
      loadContent(withMinimal({ storage: { mysql: { address: 'tcp://db:3306', database: 'authelia' } } })),
    );
    assert.match(problemAt(problems, 'storage.mysql').message, /never in MySQL\/MariaDB: configure storage\.postgres/);
  });
});

describe('warnings say what changes for the users', () => {
  it('totp: TOTP users must register a security key', () => {
    const { warnings } = loadContent(withMinimal({ totp: { issuer: 'example.com' } }));
    assert.ok(
      warnings.some((w) => w.startsWith("key 'totp'") && /users who used TOTP .*register a security key/.test(w)),
    );
  });

  it('identity_providers: OIDC clients cannot sign in', () => {
    const { warnings } = loadContent(withMinimal({ identity_providers: { oidc: { clients: [] } } }));
    assert.ok(warnings.some((w) => w.startsWith("key 'identity_providers'") && /OpenID Connect/.test(w)));
  });
});

describe("Authelia's configuration templates are refused, never taken literally", () => {
  const TEMPLATE_MESSAGE = /configuration templating .*Gatehouse does not expand templates; .*GATEHOUSE_\*/;

  it('a quoted template is refused at its key path', () => {
    const file = tempFile(
      `session:\n  secret: '{{ secret "/run/secrets/session" }}'\n  cookies:\n    - domain: example.com\n      authelia_url: https://auth.example.com\n`,
    );
    const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
    const problem = problemAt(problems, 'session.secret');
    assert.match(problem.message, TEMPLATE_MESSAGE);
    assert.ok(problem.message.includes(file));
    assert.equal(problems.length, 1);
  });

  it('an unquoted template (which YAML reads as a map) is refused at its key path, without a type error beside it', () => {
    const file = tempFile(
      `notifier:\n  smtp:\n    address: submission://mail.example.com:587\n    sender: {{ env "SENDER" }}\nsession:\n  cookies:\n    - domain: example.com\n      authelia_url: https://auth.example.com\n`,
    );
    const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
    assert.match(problemAt(problems, 'notifier.smtp.sender').message, TEMPLATE_MESSAGE);
    assert.equal(problems.length, 1, JSON.stringify(problems));
  });

  it("a template in a key's place is refused at the map holding it, with no YAML library warning on stderr", async () => {
    const emitted: string[] = [];
    const listener = (warning: Error): void => void emitted.push(warning.message);
    process.on('warning', listener);
    try {
      const file = tempFile(
        `session:\n  {{ env "KEY" }}: x\n  cookies:\n    - domain: example.com\n      authelia_url: https://auth.example.com\n{{ env "TOP" }}: y\n`,
      );
      const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
      assert.match(problemAt(problems, 'session').message, /^a key uses Authelia's configuration templating/);
      assert.match(problemAt(problems, file).message, TEMPLATE_MESSAGE);
      assert.equal(problems.length, 2, JSON.stringify(problems));
      await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
    } finally {
      process.off('warning', listener);
    }
    assert.deepEqual(emitted, []);
  });

  it('a templated secret is not also reported as missing by the checks that span keys', () => {
    const file = tempFile(
      `session:\n  secret: '{{ secret "/s" }}'\n  redis:\n    host: redis\n  cookies:\n    - domain: example.com\n      authelia_url: https://auth.example.com\nidentity_validation:\n  jwt_secret: ${'x'.repeat(40)}\n`,
    );
    const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['session.secret'],
    );
    assert.match(problems[0]!.message, TEMPLATE_MESSAGE);
  });

  it('a template inside an Authelia section Gatehouse ignores is not reported; inside a conditional one it is', () => {
    const { warnings } = loadContent(
      withMinimal({ identity_providers: { oidc: { hmac_secret: '{{ secret "/h" }}' } } }),
    );
    assert.ok(warnings.some((w) => w.startsWith("key 'identity_providers'")));
    const problems = problemsOf(() =>
      loadContent(withMinimal({ webauthn: { metadata: { enabled: '{{ env "MDS" }}' } } })),
    );
    assert.match(problemAt(problems, 'webauthn.metadata.enabled').message, TEMPLATE_MESSAGE);
  });

  it('a template inside a list entry or a longer value is refused too', () => {
    const problems = problemsOf(() =>
      loadContent(
        withMinimal({
          access_control: { rules: [{ domain: ['app.example.com', '{{ env "DOMAIN" }}'], policy: 'one_factor' }] },
          storage: { postgres: { address: 'tcp://{{ env "DB_HOST" }}:5432' } },
        }),
      ),
    );
    assert.match(problemAt(problems, 'access_control.rules[0].domain[1]').message, TEMPLATE_MESSAGE);
    assert.match(problemAt(problems, 'storage.postgres.address').message, TEMPLATE_MESSAGE);
  });

  it('a template that makes the YAML unreadable is named by its line', () => {
    const file = tempFile('session:\n  cookies: [\n    - domain: {{ env "DOMAIN" }}\n');
    const problems = problemsOf(() => loadConfig({ files: [file], env: {} }));
    assert.match(problemAt(problems, `${file}:3`).message, TEMPLATE_MESSAGE);
  });

  it('a template in a comment is harmless and ignored', () => {
    assert.doesNotThrow(() =>
      loadContent(
        `# secret: {{ secret "/x" }}\nsession:\n  cookies:\n    - domain: example.com\n      authelia_url: https://auth.example.com # {{ not a template }}\n`,
      ),
    );
  });

  it('environment values are taken verbatim: Authelia does not template them either', () => {
    const { config } = loadContent(withMinimal(), { GATEHOUSE_SESSION_SECRET: 'abc{{def}}'.repeat(4) });
    assert.equal(config.session.secret, 'abc{{def}}'.repeat(4));
  });
});
