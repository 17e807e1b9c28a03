// The one configuration schema: it gives the TypeScript type, the defaults and the error messages
// (with key paths) for everything Gatehouse reads from YAML. Key names follow Authelia's.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseNetwork, type Network } from './networks.js';
import { resolveAuthzEndpoints } from './authz-endpoints.js';

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

const tls = z
  .strictObject({
    server_name: z.string().default(''),
    skip_verify: z.boolean().default(false),
    minimum_version: z.enum(['TLS1.2', 'TLS1.3']).default('TLS1.2'),
  })
  .optional();

const secret = z.string().min(1, 'must not be empty');

/** Where identity-verification mails go without a notifier configured (and the filesystem notifier's default). */
export const DEFAULT_NOTIFICATION_FILE = './data/notification.txt';

const policy = z.enum(['bypass', 'one_factor', 'two_factor', 'deny']);
const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const queryMatcher = z.strictObject({
  operator: z.enum(['equal', 'not equal', 'present', 'absent', 'pattern', 'not pattern']).optional(),
  key: z.string().min(1),
  value: z.string().optional(),
});

const rule = z.strictObject({
  domain: stringOrList.optional(),
  domain_regex: stringOrList.optional(),
  policy,
  networks: stringOrList.optional(),
  subject: z
    .union([z.string(), z.array(z.union([z.string(), z.array(z.string())]))])
    .transform((v) => (Array.isArray(v) ? v : [v]).map((inner) => (Array.isArray(inner) ? inner : [inner])))
    .optional(),
  methods: stringOrList.optional(),
  resources: stringOrList.optional(),
  query: z
    .array(z.union([queryMatcher, z.array(queryMatcher)]).transform((v) => (Array.isArray(v) ? v : [v])))
    .optional(),
});

// Goes into a Set-Cookie header: anything beyond these characters could break or inject into the header.
const cookieName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a cookie name (letters, digits, _ . -)');

const cookie = z.strictObject({
  domain: z.string().min(1),
  authelia_url: httpUrl.optional(),
  portal_url: httpUrl.optional(),
  default_redirection_url: httpUrl.optional(),
  name: cookieName.optional(),
  same_site: z.enum(['lax', 'strict', 'none']).optional(),
  expiration: optionalDuration,
  inactivity: optionalDuration,
  remember_me: optionalDuration,
});

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

/** One `server.endpoints.authz.<name>` entry, as Authelia writes it; resolved (and refused where unsupported) in authz/endpoints.ts. */
const authzEndpoint = z.strictObject({
  implementation: z.string().optional(),
  authn_strategies: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        schemes: z.array(z.string()).optional(),
        scheme_basic_cache_lifespan: z.union([z.string(), z.number()]).transform(toSeconds).optional(),
      }),
    )
    .optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      address: listenAddress('tcp://:9091'),
      trusted_proxies: z.array(z.string()).default([]).transform(toNetworks),
      endpoints: z
        .strictObject({ authz: z.record(z.string(), authzEndpoint).optional() })
        .prefault({})
        .transform((value, ctx) => {
          const resolved = resolveAuthzEndpoints(value.authz);
          for (const issue of resolved.problems)
            ctx.addIssue({ code: 'custom', message: issue.message, path: ['authz', ...issue.path] });
          return { authz: resolved.endpoints };
        }),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['json', 'text']).default('json'),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      metrics: z
        .strictObject({ enabled: z.boolean().default(false), address: listenAddress('tcp://:9959') })
        .prefault({}),
    })
    .prefault({}),
  authentication_backend: z
    .strictObject({
      file: z
        .strictObject({
          path: z.string().min(1).default('./users_database.yml'),
          watch: z.boolean().default(false),
          password: z
            .strictObject({
              algorithm: z.enum(['argon2', 'argon2id']).default('argon2'),
              argon2: z
                .strictObject({
                  variant: z.enum(['argon2id']).default('argon2id'),
                  iterations: z.number().int().min(1).default(3),
                  memory: z.number().int().min(1024).default(65536),
                  parallelism: z.number().int().min(1).max(255).default(4),
                  key_length: z.number().int().min(16).default(32),
                  salt_length: z.number().int().min(8).default(16),
                })
                .prefault({}),
            })
            .prefault({}),
        })
        .prefault({}),
    })
    .prefault({}),
  identity_validation: z
    .strictObject({
      jwt_secret: secret.optional(),
      token_lifetime: duration('5m'),
      elevation_lifetime: duration('10m'),
    })
    .prefault({}),
  session: z
    .strictObject({
      secret: secret.optional(),
      name: cookieName.default('gatehouse_session'),
      same_site: z.enum(['lax', 'strict', 'none']).default('lax'),
      expiration: duration('1h'),
      inactivity: duration('5m'),
      remember_me: duration('1M'),
      cookies: z.array(cookie).default([]),
      redis: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(1).max(65535).default(6379),
          username: z.string().optional(),
          password: z.string().optional(),
          database_index: z.number().int().min(0).max(15).default(0),
          key_prefix: z.string().default('gatehouse:'),
          tls,
          high_availability: z
            .strictObject({
              sentinel_name: z.string().min(1),
              sentinel_username: z.string().optional(),
              sentinel_password: z.string().optional(),
              nodes: z
                .array(
                  z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(26379) }),
                )
                .default([]),
            })
            .optional(),
        })
        .optional(),
    })
    .prefault({}),
  storage: z
    .strictObject({
      postgres: z
        .strictObject({
          address: serviceAddress('tcp://127.0.0.1:5432', 5432),
          database: z.string().min(1).default('gatehouse'),
          schema: z
            .string()
            .regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case SQL identifier')
            .default('public'),
          username: z.string().min(1).default('gatehouse'),
          password: z.string().default(''),
          timeout: duration('5s'),
          tls,
        })
        .optional(),
      local: z.strictObject({ path: z.string().min(1).default('./data/db') }).prefault({}),
    })
    .prefault({}),
  notifier: z
    .strictObject({
      disable_startup_check: z.boolean().default(false),
      filesystem: z.strictObject({ filename: z.string().min(1).default(DEFAULT_NOTIFICATION_FILE) }).optional(),
      smtp: z
        .strictObject({
          address: z
            .string()
            .regex(
              /^(smtp|submission|submissions):\/\/[^/:\s]+(:\d{1,5})?$/,
              "must be like 'submission://host:587' (smtp, submission or submissions)",
            ),
          username: z.string().default(''),
          password: z.string().default(''),
          sender: z.string().min(1),
          identifier: z.string().default('localhost'),
          subject: z.string().default('[Gatehouse] {title}'),
          timeout: duration('5s'),
          tls,
        })
        .optional(),
    })
    .prefault({}),
  regulation: z
    .strictObject({
      modes: z.array(z.enum(['user', 'ip'])).default(['user']),
      max_retries: z.number().int().min(0).default(3),
      find_time: duration('2m'),
      ban_time: duration('5m'),
    })
    .prefault({}),
  webauthn: z
    .strictObject({
      disable: z.boolean().default(false),
      display_name: z.string().min(1).default('Gatehouse'),
      attestation_conveyance_preference: z.enum(['none', 'indirect', 'direct']).default('indirect'),
      user_verification: z.enum(['discouraged', 'preferred', 'required']).default('preferred'),
      timeout: duration('60s'),
      enable_passkey_login: z.boolean().default(false),
      experimental_enable_passkey_uv_two_factors: z.boolean().default(false),
      filtering: z
        .strictObject({
          permitted_aaguids: z.array(z.string().uuid('must be an AAGUID (UUID)')).default([]),
          prohibited_aaguids: z.array(z.string().uuid('must be an AAGUID (UUID)')).default([]),
        })
        .prefault({}),
    })
    .prefault({}),
  access_control: z
    .strictObject({
      default_policy: policy.default('deny'),
      networks: z.array(z.strictObject({ name: z.string().min(1), networks: stringOrList })).default([]),
      rules: z.array(rule).default([]),
    })
    .prefault({}),
  // Authelia's current home for named networks (access_control.networks is its older form; both are read).
  definitions: z
    .strictObject({
      network: z.record(z.string().min(1), stringOrList).default({}),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type RawConfig = z.input<typeof configSchema>;
export type AccessControlConfig = Config['access_control'];
export type RuleConfig = AccessControlConfig['rules'][number];
export type DefinitionsConfig = Config['definitions'];
export type Policy = z.output<typeof policy>;
export type CookieConfig = Config['session']['cookies'][number];
export type TlsConfig = NonNullable<z.output<typeof tls>>;
