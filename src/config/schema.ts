// The one configuration schema: it gives the TypeScript type, the defaults and the error messages
// (with key paths) for everything Gatehouse reads from YAML. Key names follow Authelia's.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseNetwork, type Network } from './networks.js';
import { resolveAuthzEndpoints } from './authz-endpoints.js';
import { filterProblems, GROUPS_FILTER_VALUES, USERS_FILTER_VALUES } from './ldap-filter.js';
import { LDAP_IMPLEMENTATIONS, resolveLdapSettings } from './ldap-presets.js';
import { SENTINEL_PORT } from './sentinel-host.js';

function toSeconds(value: string | number, ctx: z.RefinementCtx): number {
  const parsed = parseDuration(value);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.seconds;
}

/** A duration in seconds, written as Authelia does ("5m", "1h30m") or as a number of seconds. */
const duration = (fallback: string | number) =>
  z.union([z.string(), z.number()]).default(fallback).transform(toSeconds);

/** A per-cookie override: absent stays absent, so the session-level value applies (a default here would hide it). */
const optionalDuration = z.union([z.string(), z.number()]).transform(toSeconds).optional();

/** A listen address such as `tcp://:9091`, `tcp://127.0.0.1:9091` or `tcp://[::1]:9091`. */
const listenAddress = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^(?:tcp[46]?:\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s]*)?:(\d{1,5})\/?$/.exec(value.trim());
      const port = match ? Number(match[2]) : NaN;
      if (!match || !(port >= 0 && port <= 65535)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be an address like 'tcp://:9091' or 'tcp://127.0.0.1:9091', not '${value}'`,
        });
        return z.NEVER;
      }
      const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
      return { host: host === '' ? undefined : host, port };
    });

/** `tcp://host:port` for a database; host and port both optional. */
const serviceAddress = (fallback: string, defaultPort: number) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^(?:tcp[46]?:\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+)(?::(\d{1,5}))?\/?$/.exec(value.trim());
      if (!match) {
        ctx.addIssue({
          code: 'custom',
          message: `must be an address like 'tcp://127.0.0.1:${defaultPort}', not '${value}'`,
        });
        return z.NEVER;
      }
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort };
    });

const httpUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be an absolute URL, not '${value}'` });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: `must be an http or https URL, not '${value}'` });
    return z.NEVER;
  }
  if (url.username || url.password || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not carry credentials, a query or a fragment' });
    return z.NEVER;
  }
  return url;
});

/** What every TLS client block has (Redis, PostgreSQL, LDAP); LDAP extends it. */
const tlsSettings = z.strictObject({
  server_name: z
    .string()
    .default('')
    .meta({ description: "name the server's certificate is checked against (empty: the host of the address)" }),
  skip_verify: z
    .boolean()
    .default(false)
    .meta({ description: "do not check the server's certificate (trial setups only)" }),
  minimum_version: z.enum(['TLS1.2', 'TLS1.3']).default('TLS1.2').meta({ description: 'oldest TLS version accepted' }),
});

const tls = tlsSettings.optional().meta({ description: 'connect over TLS (absent: plain TCP)' });

/**
 * Every key carries `.meta({ description })`, and secrets `secret: true`: the docs table, the JSON Schema, the
 * GATEHOUSE_* list, the `_FILE` variants and the log redaction are generated from them (reference.ts).
 */
const secret = z.string().min(1, 'must not be empty');

/** An LDAP server address: `ldap://host[:389]` or `ldaps://host[:636]`. */
const ldapAddress = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be an address like 'ldap://ldap.example.com', not '${value}'` });
    return z.NEVER;
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') {
    ctx.addIssue({
      code: 'custom',
      message: `must be an ldap:// or ldaps:// address (ldapi is not supported), not '${value}'`,
    });
    return z.NEVER;
  }
  if (
    url.hostname === '' ||
    url.username ||
    url.password ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search ||
    url.hash
  ) {
    ctx.addIssue({ code: 'custom', message: 'must name a host and nothing else (no path, query, credentials)' });
    return z.NEVER;
  }
  const scheme = url.protocol === 'ldaps:' ? 'ldaps' : 'ldap';
  const port = url.port === '' ? (scheme === 'ldaps' ? 636 : 389) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    scheme,
    host,
    port,
    url: `${scheme}://${url.host.includes(':') && url.port === '' ? url.host : url.hostname.includes(':') ? `[${host}]` : host}:${port}`,
  } as const;
});

const ldapAttribute = z
  .string()
  .regex(/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/, 'must be an LDAP attribute name')
  .optional();

const ldap = z
  .strictObject({
    address: ldapAddress.meta({ description: 'the directory: `ldap://host[:389]` or `ldaps://host[:636]`' }),
    implementation: z.enum(LDAP_IMPLEMENTATIONS).default('custom').meta({
      description:
        "Authelia's preset of filters, extra DNs and attribute names for unset keys: custom, activedirectory, rfc2307bis, freeipa, lldap, glauth",
    }),
    timeout: duration('5s').meta({ description: 'connecting and each operation give up after this long' }),
    start_tls: z
      .boolean()
      .default(false)
      .meta({ description: 'upgrade an ldap:// connection with StartTLS before binding (ignored for ldaps://)' }),
    tls: tlsSettings
      .extend({
        maximum_version: z
          .enum(['TLS1.2', 'TLS1.3'])
          .default('TLS1.3')
          .meta({ description: 'newest TLS version offered' }),
        certificate_chain: z
          .string()
          .optional()
          .meta({ description: 'client certificate (PEM, leaf first) for directories that ask for one' }),
        private_key: secret.optional().meta({ description: 'private key (PEM) of certificate_chain', secret: true }),
      })
      .prefault({})
      .meta({
        description:
          'TLS of ldaps:// and StartTLS; the server certificate must chain to a CA Node trusts (system CAs, NODE_EXTRA_CA_CERTS)',
      }),
    pooling: z
      .strictObject({
        enable: z.boolean().default(false).meta({ description: 'keep service-bound connections open and reuse them' }),
        count: z.number().int().min(1).max(100).default(5).meta({ description: 'connections in the pool' }),
        retries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(2)
          .meta({ description: 'times a failed pooled connection is replaced before the operation fails' }),
        timeout: duration('10s').meta({ description: 'how long an operation waits for a free pooled connection' }),
      })
      .prefault({})
      .meta({ description: 'connections reused for searches (binds as a user always use a connection of their own)' }),
    base_dn: z.string().trim().min(1, 'must name the base of the tree, e.g. dc=example,dc=com').meta({
      description: 'the base of the tree; users and groups are searched under it (subtree)',
    }),
    additional_users_dn: z.string().optional().meta({
      description: 'prepended to base_dn for the users search (preset default for lldap: ou=people)',
    }),
    users_filter: z.string().optional().meta({
      description:
        'finds the user: must contain {input} (the escaped username typed); may use {username_attribute}, {mail_attribute}, {display_name_attribute}, {date-time:generalized|microsoft-nt|unix}; required with custom. Disabled accounts are excluded here, as in Authelia',
    }),
    users_reset_filter: z
      .string()
      .optional()
      .meta({ description: "accepted for Authelia's configuration; unused (Gatehouse has no password reset)" }),
    additional_groups_dn: z.string().optional().meta({
      description: 'prepended to base_dn for the groups search (preset default for lldap: ou=groups)',
    }),
    groups_filter: z.string().optional().meta({
      description:
        "finds the user's groups: may use {input}, {username}, {dn} (each escaped) and the attribute placeholders; required with custom",
    }),
    group_search_mode: z
      .enum(['filter'])
      .default('filter')
      .meta({ description: 'groups are found by groups_filter (memberof is not supported)' }),
    attributes: z
      .strictObject({
        distinguished_name: ldapAttribute.meta({ description: 'attribute holding the DN (unset: the entry DN)' }),
        username: ldapAttribute.meta({ description: 'username attribute (custom default: uid)' }),
        display_name: ldapAttribute.meta({ description: 'display name attribute (custom default: displayName)' }),
        mail: ldapAttribute.meta({ description: 'email attribute (custom default: mail)' }),
        member_of: ldapAttribute.meta({ description: 'member-of attribute, for {member_of_attribute} in filters' }),
        group_name: ldapAttribute.meta({ description: 'group name attribute (custom default: cn)' }),
        // Authelia reads these for its OpenID Connect claims; accepted so its configuration starts, never read.
        ...Object.fromEntries(
          [
            'family_name',
            'given_name',
            'middle_name',
            'nickname',
            'gender',
            'birthdate',
            'website',
            'profile',
            'picture',
            'zoneinfo',
            'locale',
            'phone_number',
            'phone_extension',
            'street_address',
            'locality',
            'region',
            'postal_code',
            'country',
          ].map((name) => [
            name,
            ldapAttribute.meta({ description: 'accepted, not read (Gatehouse has no OpenID Connect provider)' }),
          ]),
        ),
        extra: z
          .record(z.string(), z.unknown())
          .optional()
          .meta({ description: 'accepted, not read (Gatehouse has no OpenID Connect provider)' }),
      })
      .prefault({})
      .meta({ description: 'attribute names (unset: the preset of implementation)' }),
    permit_referrals: z
      .boolean()
      .default(false)
      .meta({ description: 'accepted; referrals are never chased: an entry found only behind one is not found' }),
    permit_unauthenticated_bind: z
      .boolean()
      .default(false)
      .meta({ description: 'search without a password for user (an empty password never signs anyone in)' }),
    permit_feature_detection_failure: z
      .boolean()
      .default(false)
      .meta({ description: "accepted for Authelia's configuration; Gatehouse does not read the Root DSE" }),
    user: z.string().optional().meta({ description: 'DN of the service user that searches' }),
    password: secret.optional().meta({ description: 'password of the service user', secret: true }),
  })
  .superRefine((value, ctx) => {
    const settings = resolveLdapSettings(value);
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (settings.usersFilter === '') problem('users_filter', `is required with implementation ${value.implementation}`);
    else {
      for (const message of filterProblems(settings.usersFilter, USERS_FILTER_VALUES)) problem('users_filter', message);
      if (!settings.usersFilter.includes('{input}')) problem('users_filter', 'must contain {input}');
    }
    if (settings.groupsFilter === '')
      problem('groups_filter', `is required with implementation ${value.implementation}`);
    else
      for (const message of filterProblems(settings.groupsFilter, GROUPS_FILTER_VALUES))
        problem('groups_filter', message);
    if (!value.user) problem('user', 'is required: the DN of the user that searches the directory');
    if (value.permit_unauthenticated_bind && value.password !== undefined)
      problem('password', 'must not be set with permit_unauthenticated_bind');
    if (!value.permit_unauthenticated_bind && value.password === undefined)
      problem('password', 'is required (or set permit_unauthenticated_bind)');
    if (value.tls.private_key !== undefined && value.tls.certificate_chain === undefined)
      problem('tls', 'private_key needs certificate_chain');
    if (value.tls.minimum_version === 'TLS1.3' && value.tls.maximum_version === 'TLS1.2')
      problem('tls', 'minimum_version is newer than maximum_version');
  })
  .optional()
  .meta({ description: 'users from an LDAP directory (instead of file)' });

export type LdapConfig = NonNullable<z.output<typeof ldap>>;

/** Where identity-verification mails go without a notifier configured (and the filesystem notifier's default). */
export const DEFAULT_NOTIFICATION_FILE = './data/notification.txt';

const policy = z.enum(['bypass', 'one_factor', 'two_factor', 'deny']);
const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const queryMatcher = z.strictObject({
  operator: z
    .enum(['equal', 'not equal', 'present', 'absent', 'pattern', 'not pattern'])
    .optional()
    .meta({ description: 'how the parameter is compared (absent: `equal` with a value, else `present`)' }),
  key: z.string().min(1).meta({ description: 'query parameter name' }),
  value: z.string().optional().meta({ description: 'text or (pattern operators) Go regular expression' }),
});

const rule = z.strictObject({
  domain: stringOrList
    .optional()
    .meta({ description: 'host names the rule applies to (`*.example.com`, `{user}`, `{group}` allowed)' }),
  domain_regex: stringOrList
    .optional()
    .meta({ description: 'host name Go regular expressions; named groups `User` and `Group` match the subject' }),
  policy: policy.meta({ description: 'what a matching request needs: bypass, one_factor, two_factor or deny' }),
  networks: stringOrList.optional().meta({
    description: 'client addresses or CIDR ranges, or names of access_control.networks / definitions.network',
  }),
  subject: z
    .union([z.string(), z.array(z.union([z.string(), z.array(z.string())]))])
    .transform((v) => (Array.isArray(v) ? v : [v]).map((inner) => (Array.isArray(inner) ? inner : [inner])))
    .optional()
    .meta({ description: '`user:NAME` or `group:NAME`; a list is OR, a nested list is AND' }),
  methods: stringOrList.optional().meta({ description: 'HTTP methods (GET, POST, ...)' }),
  resources: stringOrList
    .optional()
    .meta({ description: 'Go regular expressions matched against the path and query of the target' }),
  query: z
    .array(z.union([queryMatcher, z.array(queryMatcher)]).transform((v) => (Array.isArray(v) ? v : [v])))
    .optional()
    .meta({ description: 'query-parameter matchers: the outer list is OR, an inner list is AND' }),
  identity_token: z.boolean().optional().meta({
    description:
      "true: a signed-in pass of this rule carries the signed identity token (`identity_token.header`); false: it never does; absent: the cookie domain's `identity_token` decides",
  }),
  max_auth_age: optionalDuration.meta({
    description:
      "step-up, only with policy two_factor: the session's last security-key use must be at most this old (`10m`, `1h`); an older one is sent to the portal to touch the key again (not the password)",
  }),
});

// Goes into a Set-Cookie header: anything beyond these characters could break or inject into the header.
const cookieName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a cookie name (letters, digits, _ . -)');

const sameSite = z.enum(['lax', 'strict', 'none']);

const cookie = z.strictObject({
  domain: z
    .string()
    .min(1)
    .meta({ description: 'the cookie domain: the protected hosts are this name and the hosts under it' }),
  authelia_url: httpUrl
    .optional()
    .meta({ description: "the portal's URL for this domain (required, unless portal_url is given); under the domain" }),
  portal_url: httpUrl.optional().meta({ description: 'Gatehouse name for authelia_url (one of the two)' }),
  default_redirection_url: httpUrl
    .optional()
    .meta({ description: 'where the portal sends a user who signed in without a target' }),
  name: cookieName.optional().meta({ description: 'overrides session.name for this domain' }),
  same_site: sameSite.optional().meta({ description: 'overrides session.same_site for this domain' }),
  expiration: optionalDuration.meta({ description: 'overrides session.expiration for this domain' }),
  inactivity: optionalDuration.meta({ description: 'overrides session.inactivity for this domain' }),
  remember_me: optionalDuration.meta({ description: 'overrides session.remember_me for this domain' }),
  identity_token: z.boolean().default(false).meta({
    description:
      "signed-in passes to this domain's hosts carry the signed identity token (`identity_token`), unless a rule's own `identity_token` says otherwise; its issuer is this domain's portal URL",
  }),
});

/** Headers the authz answer already writes: the token's header must be another one. */
const ANSWER_HEADERS = [
  'remote-user',
  'remote-groups',
  'remote-name',
  'remote-email',
  'content-length',
  'content-type',
  'cache-control',
  'location',
  'set-cookie',
  'www-authenticate',
  'proxy-authenticate',
  'retry-after',
  'allow',
];

/** An HTTP header name (RFC 9110 token) of the authz answer, not one it already writes. */
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .refine((name) => !ANSWER_HEADERS.includes(name.toLowerCase()), 'must not be a header the authz answer already sets');

// ---- server (the authz endpoints and whom X-Forwarded-For is believed from) ----

/** `server.trusted_proxies`: addresses or CIDR ranges, checked here so a typo can never silently trust nobody or everybody. */
function toNetworks(entries: string[], ctx: z.RefinementCtx): Network[] {
  const networks: Network[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseNetwork(entry.trim());
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error, path: [index] });
    else networks.push(parsed);
  });
  return networks;
}

/** One `server.endpoints.authz.<name>` entry, as Authelia writes it; resolved (and refused where unsupported) in authz-endpoints.ts. */
const authzEndpoint = z.strictObject({
  implementation: z.string().optional().meta({
    description: '`AuthRequest`, `ForwardAuth` or `Legacy` (`ExtAuthz` is refused); `legacy` defaults to Legacy',
  }),
  authn_strategies: z
    .array(
      z.strictObject({
        name: z.string().optional().meta({
          description:
            '`HeaderAuthorization`, `HeaderProxyAuthorization` (answers 407), `HeaderAuthRequestProxyAuthorization` (answers 401), `HeaderLegacy` or `CookieSession`',
        }),
        schemes: z.array(z.string()).optional().meta({ description: '`[basic]` only (`bearer` is refused)' }),
        scheme_basic_cache_lifespan: z
          .union([z.string(), z.number()])
          .transform(toSeconds)
          .optional()
          .meta({ description: 'must be 0: Basic credentials are checked on every request' }),
      }),
    )
    .optional()
    .meta({
      description:
        'tried in order; without them: HeaderAuthorization, the Proxy-Authorization strategy of the implementation, CookieSession (Legacy: HeaderLegacy, CookieSession)',
    }),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      address: listenAddress('tcp://:9091').meta({
        description:
          'where the portal and the authz endpoints listen: `tcp://:9091`, `tcp://127.0.0.1:9091`, `tcp://[::1]:9091`',
      }),
      trusted_proxies: z.array(z.string()).default([]).transform(toNetworks).meta({
        description:
          "addresses or CIDR ranges of the proxies whose X-Forwarded-For is believed. Empty: the leftmost entry is the client (as Authelia; the shipped proxy files overwrite the header). Set: only a listed peer's header is read, and the client is the rightmost entry that is not a listed proxy. A blank or garbled header leaves the client unknown (no `networks` rule matches)",
      }),
      authz_thread: z.boolean().default(false).meta({
        description:
          'answer the authz endpoints in a worker thread of their own, from a copy of the session cache (only with session.redis and its local_cache on), so that their V8 isolate never sees the Redis, SQL and Express objects of the main thread; everything else that thread receives is passed to the main thread over a private Unix socket. Off by default: whether it pays depends on the CPU (compare the two warm rows of `npm run bench` on yours); passes that carry an identity token and LDAP users are always answered by the main thread, one hop further',
      }),
      endpoints: z
        .strictObject({
          authz: z.record(z.string(), authzEndpoint).optional().meta({
            description:
              'the authz endpoints by name: `legacy` is `/api/verify`, any other name `/api/authz/<name>`; a map replaces the defaults (`legacy`, `auth-request`, `forward-auth`)',
          }),
        })
        .prefault({})
        .transform((value, ctx) => {
          const resolved = resolveAuthzEndpoints(value.authz);
          for (const issue of resolved.problems)
            ctx.addIssue({ code: 'custom', message: issue.message, path: ['authz', ...issue.path] });
          return { authz: resolved.endpoints };
        })
        .meta({ description: 'the endpoints the proxies ask' }),
    })
    .prefault({})
    .meta({ description: 'the HTTP server' }),
  log: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error'])
        .default('info')
        .meta({ description: 'each authz decision (user, target, rule, result) is logged at `debug`' }),
      format: z
        .enum(['json', 'text'])
        .default('json')
        .meta({ description: 'JSON lines, or one readable line per entry' }),
    })
    .prefault({})
    .meta({ description: 'logs, on standard output' }),
  telemetry: z
    .strictObject({
      metrics: z
        .strictObject({
          enabled: z.boolean().default(false).meta({ description: 'serve Prometheus metrics' }),
          address: listenAddress('tcp://:9959').meta({
            description: 'where `/metrics` is served (that address only; a port other than server.address)',
          }),
        })
        .prefault({})
        .meta({ description: 'Prometheus text at `/metrics`' }),
    })
    .prefault({})
    .meta({ description: 'metrics' }),
  authentication_backend: z
    .strictObject({
      file: z
        .strictObject({
          path: z
            .string()
            .min(1)
            .default('./users_database.yml')
            .meta({ description: "the users file, in Authelia's format (it must exist)" }),
          watch: z.boolean().default(false).meta({
            description:
              'reload the users file when it changes (directory watch + a 3 s poll); an invalid file keeps the previous users',
          }),
          password: z
            .strictObject({
              algorithm: z.enum(['argon2', 'argon2id']).default('argon2').meta({
                description:
                  'new hashes (`hash-password`) are argon2id whichever is written; existing argon2id, bcrypt (`$2a$/$2b$/$2y$`) and SHA-512 crypt (`$6$`) hashes verify',
              }),
              argon2: z
                .strictObject({
                  variant: z.enum(['argon2id']).default('argon2id').meta({ description: 'argon2id only' }),
                  iterations: z.number().int().min(1).default(3).meta({ description: 'passes (t)' }),
                  memory: z.number().int().min(1024).default(65536).meta({ description: 'memory in KiB (m)' }),
                  parallelism: z.number().int().min(1).max(255).default(4).meta({ description: 'lanes (p)' }),
                  key_length: z.number().int().min(16).default(32).meta({ description: 'hash length in bytes' }),
                  salt_length: z.number().int().min(8).default(16).meta({ description: 'salt length in bytes' }),
                })
                .prefault({})
                .meta({
                  description:
                    'argon2id parameters of `gatehouse hash-password` (and of the dummy hash that evens out unknown users)',
                }),
              concurrent_checks: z.number().int().min(1).max(64).optional().meta({
                description:
                  'password hashes one replica verifies at once (Gatehouse\'s own key; default: every core but one, at least 1, at most 3). An argon2id check holds its `m` of memory while it runs; 16 more per slot may wait, and beyond that a sign-in is answered 503 "try again". Hashes run on node\'s thread pool (UV_THREADPOOL_SIZE, 4 by default): more slots than its threads only lengthen the queue',
              }),
            })
            .prefault({})
            .meta({ description: 'how new password hashes are made, and how many are checked at once' }),
        })
        .prefault({})
        .meta({ description: 'users from a file (unused when ldap is set)' }),
      ldap,
      refresh_interval: z
        .union([z.string(), z.number()])
        .default('5m')
        .transform((value, ctx): number | 'always' | 'disable' => {
          if (value === 'always' || value === 'disable') return value;
          const seconds = toSeconds(value, ctx);
          if (seconds < 0) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
          return seconds;
        })
        .meta({
          description:
            'LDAP: how often the details of a signed-in user are re-read from the directory (a duration; `always`: on every request, a directory query each; `disable`: never). The users file is re-read on change instead',
        }),
    })
    .prefault({})
    .meta({ description: 'where users and their passwords come from' }),
  identity_validation: z
    .strictObject({
      jwt_secret: secret.optional().meta({
        description: 'signs the emailed identity links; required with session.redis, else generated per process',
        secret: true,
      }),
      token_lifetime: duration('5m').meta({ description: 'how long an emailed link stays valid' }),
      elevation_lifetime: duration('10m').meta({
        description: 'how long a session stays elevated (may register security keys) after the link is used',
      }),
    })
    .prefault({})
    .meta({ description: 'emailed links that elevate a session' }),
  session: z
    .strictObject({
      secret: secret.optional().meta({
        description: 'encrypts session data at rest; required with session.redis, else generated per process',
        secret: true,
      }),
      name: cookieName.default('gatehouse_session').meta({ description: 'session cookie name' }),
      same_site: sameSite.default('lax').meta({ description: 'SameSite of the session cookie' }),
      expiration: duration('1h').meta({ description: 'a session ends this long after sign-in' }),
      inactivity: duration('5m').meta({ description: 'a session ends after this long without a request' }),
      remember_me: duration('1M').meta({
        description: 'session length with "remember me" ticked; -1 hides the box',
      }),
      cookies: z
        .array(cookie)
        .default([])
        .meta({ description: 'one entry per cookie domain (at least one is required)' }),
      redis: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1').meta({ description: 'Redis host' }),
          port: z.number().int().min(1).max(65535).default(6379).meta({ description: 'Redis port' }),
          username: z.string().optional().meta({ description: 'Redis ACL user' }),
          password: z.string().optional().meta({ description: 'Redis password', secret: true }),
          database_index: z.number().int().min(0).max(15).default(0).meta({ description: 'Redis database number' }),
          key_prefix: z
            .string()
            .default('gatehouse:')
            .meta({ description: 'prefix of every key Gatehouse writes (sessions, locks, counters)' }),
          tls,
          high_availability: z
            .strictObject({
              sentinel_name: z.string().min(1).meta({ description: 'the master name Sentinel knows' }),
              sentinel_username: z.string().optional().meta({ description: 'Sentinel ACL user' }),
              sentinel_password: z.string().optional().meta({ description: 'Sentinel password', secret: true }),
              nodes: z
                .array(
                  z.strictObject({
                    host: z.string().min(1).meta({ description: 'Sentinel host' }),
                    port: z
                      .number()
                      .int()
                      .min(1)
                      .max(65535)
                      .default(SENTINEL_PORT)
                      .meta({ description: 'Sentinel port' }),
                  }),
                )
                .default([])
                .meta({
                  description:
                    'the Sentinels asked for the master; none listed: session.redis.host and port (default 26379) name the one Sentinel, as Authelia reads them; listed: host and port are not used',
                }),
            })
            .optional()
            .meta({ description: 'Redis through Sentinel' }),
          local_cache: z
            .strictObject({
              max_entries: z.number().int().min(0).default(10_000).meta({
                description:
                  'sessions kept decoded in each replica and answered without Redis while Redis reports every change (0: off)',
              }),
              max_bytes: z.number().int().min(0).default(16_777_216).meta({
                description: 'approximate memory bound of that cache in bytes; least recently used sessions go first',
              }),
            })
            .prefault({})
            .meta({ description: 'the in-process session cache, kept honest by Redis client tracking' }),
          cluster: z
            .strictObject({
              nodes: z
                .array(
                  z.strictObject({
                    host: z.string().min(1).meta({ description: 'cluster node host' }),
                    port: z.number().int().min(1).max(65535).default(6379).meta({ description: 'cluster node port' }),
                  }),
                )
                .min(1, 'must list at least one node of the cluster')
                .meta({
                  description:
                    'some nodes of the cluster, asked for the rest (with cluster, session.redis.host and port are not used)',
                }),
            })
            .optional()
            .meta({
              description:
                'Redis Cluster or Valkey Cluster (username, password, tls and key_prefix from session.redis; database 0 only)',
            }),
        })
        .optional()
        .meta({ description: 'shared sessions for several replicas (absent: in memory, one replica)' }),
    })
    .prefault({})
    .meta({ description: 'the session: defaults for every cookie domain, and where sessions are kept' }),
  storage: z
    .strictObject({
      postgres: z
        .strictObject({
          address: serviceAddress('tcp://127.0.0.1:5432', 5432).meta({ description: '`tcp://host:port`' }),
          database: z.string().min(1).default('gatehouse').meta({ description: 'database name' }),
          schema: z
            .string()
            .regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case SQL identifier')
            .default('public')
            .meta({ description: 'schema of the tables (created if missing)' }),
          username: z.string().min(1).default('gatehouse').meta({ description: 'database user' }),
          password: z.string().default('').meta({ description: 'database password', secret: true }),
          timeout: duration('5s').meta({ description: 'bound on connecting and on each query' }),
          tls,
        })
        .optional()
        .meta({ description: 'PostgreSQL (absent: the embedded database)' }),
      local: z
        .strictObject({
          path: z
            .string()
            .min(1)
            .default('./data/db')
            .meta({ description: 'directory of the embedded PostgreSQL (PGlite); one process only' }),
        })
        .prefault({})
        .meta({ description: 'the embedded database, used when storage.postgres is absent' }),
      authentication_log: z
        .strictObject({
          retention: optionalDuration.meta({
            description:
              'how long sign-in attempts are kept before the hourly pruning deletes them; at least regulation.find_time + regulation.ban_time (bans are counted from this log). Absent: 30 days, or find_time + ban_time when that is longer',
          }),
        })
        .prefault({})
        .meta({ description: 'the record of sign-in attempts (`gatehouse storage authentication-log list`)' }),
    })
    .prefault({})
    .meta({ description: 'where security keys, sign-in history and bans are kept' }),
  notifier: z
    .strictObject({
      disable_startup_check: z
        .boolean()
        .default(false)
        .meta({ description: 'start even when the notifier cannot deliver' }),
      filesystem: z
        .strictObject({
          filename: z
            .string()
            .min(1)
            .default(DEFAULT_NOTIFICATION_FILE)
            .meta({ description: 'the file mails are appended to' }),
        })
        .optional()
        .meta({ description: 'mails written to a file (the default when smtp is absent)' }),
      smtp: z
        .strictObject({
          address: z
            .string()
            .regex(
              /^(smtp|submission|submissions):\/\/[^/:\s]+(:\d{1,5})?$/,
              "must be like 'submission://host:587' (smtp, submission or submissions)",
            )
            .meta({
              description:
                '`smtp://` (STARTTLS when offered), `submission://` (STARTTLS required) or `submissions://` (TLS) with host and port',
            }),
          username: z.string().default('').meta({ description: 'SMTP user (empty: no authentication)' }),
          password: z.string().default('').meta({ description: 'SMTP password', secret: true }),
          sender: z.string().min(1).meta({ description: 'the From address' }),
          identifier: z.string().default('localhost').meta({ description: 'the name given in HELO/EHLO' }),
          subject: z
            .string()
            .default('[Gatehouse] {title}')
            .meta({ description: 'mail subject; `{title}` is replaced' }),
          timeout: duration('5s').meta({ description: 'bound on connecting and on each command' }),
          tls,
        })
        .optional()
        .meta({ description: 'mails sent over SMTP' }),
    })
    .prefault({})
    .meta({ description: 'how identity-verification mails are sent' }),
  identity_token: z
    .strictObject({
      header: headerName.default('Remote-JWT').meta({
        description:
          'the header of the authz answer that carries the token (the proxy copies it to the upstream, replacing any value the client sent)',
      }),
      algorithm: z
        .enum(['ES256', 'EdDSA'])
        .default('ES256')
        .meta({ description: 'signature algorithm of new keys: ES256 (P-256) or EdDSA (Ed25519)' }),
      lifetime: duration('1m')
        .refine((seconds) => seconds >= 30 && seconds <= 600, 'must be between 30s and 10m')
        .meta({ description: 'how long a token is valid (`exp` - `iat`); a replica reuses one until 15 s before' }),
      key_rotation: duration('1d')
        .refine((seconds) => seconds >= 3600, 'must be at least 1h')
        .meta({
          description:
            'a new signing key is used this often; it is published ahead of use, and old public keys stay published until their tokens expire',
        }),
      encryption_key: secret.optional().meta({
        description:
          'seals the private signing keys in storage (absent: derived from session.secret; a key that no longer unseals is replaced)',
        secret: true,
      }),
    })
    .prefault({})
    .meta({
      description:
        'the signed identity token (JWT) for upstream apps, switched on per cookie domain or per rule; public keys at `/.well-known/jwks.json`',
    }),
  regulation: z
    .strictObject({
      modes: z
        .array(z.enum(['user', 'ip']))
        .default(['user'])
        .meta({ description: 'what is banned: the username, the client address, or both' }),
      max_retries: z
        .number()
        .int()
        .min(0)
        .default(3)
        .meta({ description: 'failed sign-ins within find_time that ban; 0 disables regulation' }),
      find_time: duration('2m').meta({ description: 'the window the failures are counted in' }),
      ban_time: duration('5m').meta({ description: 'how long a ban lasts after the last failure' }),
    })
    .prefault({})
    .meta({ description: 'bans after repeated failed sign-ins' }),
  webauthn: z
    .strictObject({
      disable: z.boolean().default(false).meta({ description: 'turn security keys and passkeys off' }),
      display_name: z
        .string()
        .min(1)
        .default('Gatehouse')
        .meta({ description: 'the relying party name authenticators show' }),
      attestation_conveyance_preference: z
        .enum(['none', 'indirect', 'direct'])
        .default('indirect')
        .meta({ description: 'attestation asked for at registration' }),
      user_verification: z
        .enum(['discouraged', 'preferred', 'required'])
        .default('preferred')
        .meta({ description: 'user verification (PIN, biometrics) asked of the authenticator' }),
      timeout: duration('60s').meta({ description: 'how long a ceremony may take (10s to 10m)' }),
      enable_passkey_login: z
        .boolean()
        .default(false)
        .meta({ description: 'sign in with a passkey first (the password is then the second step)' }),
      experimental_enable_passkey_uv_two_factors: z
        .boolean()
        .default(false)
        .meta({ description: 'a passkey with user verification counts as both factors' }),
      filtering: z
        .strictObject({
          permitted_aaguids: z
            .array(z.string().uuid('must be an AAGUID (UUID)'))
            .default([])
            .meta({ description: 'only these authenticator models may register (empty: any)' }),
          prohibited_aaguids: z
            .array(z.string().uuid('must be an AAGUID (UUID)'))
            .default([])
            .meta({ description: 'these authenticator models may not register' }),
        })
        .prefault({})
        .meta({ description: 'which authenticator models may register (not both lists)' }),
    })
    .prefault({})
    .meta({ description: 'security keys and passkeys' }),
  access_control: z
    .strictObject({
      default_policy: policy
        .default('deny')
        .meta({ description: 'the policy when no rule matches: bypass, one_factor, two_factor or deny' }),
      networks: z
        .array(
          z.strictObject({
            name: z.string().min(1).meta({ description: 'the name rules use' }),
            networks: stringOrList.meta({ description: 'addresses or CIDR ranges' }),
          }),
        )
        .default([])
        .meta({ description: 'named networks (older form of definitions.network)' }),
      rules: z.array(rule).default([]).meta({ description: 'the rules, first match wins' }),
    })
    .prefault({})
    .meta({ description: 'who may reach what' }),
  // Authelia's current home for named networks (access_control.networks is its older form; both are read).
  definitions: z
    .strictObject({
      network: z.record(z.string().min(1), stringOrList).default({}).meta({
        description:
          'named networks (`NAME: [cidr, ...]`), usable in rules[].networks like access_control.networks; a name may not be in both',
      }),
    })
    .prefault({})
    .meta({ description: 'named values rules refer to' }),
});

export type Config = z.output<typeof configSchema>;
export type RawConfig = z.input<typeof configSchema>;
export type AccessControlConfig = Config['access_control'];
export type RuleConfig = AccessControlConfig['rules'][number];
export type DefinitionsConfig = Config['definitions'];
export type Policy = z.output<typeof policy>;
export type CookieConfig = Config['session']['cookies'][number];
export type TlsConfig = NonNullable<z.output<typeof tls>>;
