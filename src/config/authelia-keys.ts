// Keys Authelia's configuration has and Gatehouse does not read as they are (SPEC §3, issues 7 and 8): ONE table,
// each key with what Gatehouse does about it: map it to a Gatehouse key, warn, or refuse. Applied by
// authelia-apply.ts; listed in docs/configuration.md by the generator (reference.ts). Rule: a key that decides who gets in or where data lives, and that Gatehouse
// cannot honour, is refused (start-up stops, naming the key and what to do); a feature whose absence fails
// closed is warned about, saying what changes for the users. Nothing is dropped silently. Any key that is
// neither here nor in the schema is a mistake and stays an error.
import { isMap, type ConfigTree } from './yaml-files.js';
import {
  postgresAddress,
  postgresTls,
  serverAddress,
  sessionCookies,
  singleCookieRedirect,
  smtpAddress,
  type Converted,
} from './authelia-conversions.js';

/**
 * What Gatehouse does with an Authelia key present in the configuration.
 * - `refuse`: a problem at the key; `text` says why and what to do instead.
 * - `warn`: a warning; `text` says what changes for the users.
 * - `map`: an older Authelia name of a key Gatehouse reads (issue 8): the value moves to `to`, with a warning
 *   naming the key to write; set there too with another value, it is a problem naming both.
 */
export type AutheliaKeyAction = 'refuse' | 'warn' | 'map';

export interface AutheliaKeyEntry {
  /** Dotted key path; the whole subtree under it is covered. */
  key: string;
  action: AutheliaKeyAction;
  text: string;
  /** Only when the value satisfies this (e.g. a security option switched on); else the next entry for the key. */
  when?: (value: unknown) => boolean;
  /** How the docs table words `when` (given with it, by WHEN_TRUE or WHEN_ENABLED). */
  whenText?: string;
  /** map: the Gatehouse key the value moves to, or (for a key whose place depends on the tree) a function finding it. */
  to?: string | ((tree: ConfigTree) => string[] | string);
  /** map: older keys folded into `to` together with `key` (host and port into one address); any of them triggers it. */
  with?: readonly string[];
  /** map: `with` keys are only taken along when `key` itself is present. */
  withOnlyAlongside?: boolean;
  /** map: the new value from the old ones (`key`, then `with`; undefined where absent); a string is a problem. */
  convert?: (values: readonly unknown[]) => Converted;
  /** map: the value is a secret and is never shown in a warning. */
  secret?: boolean;
}

const WHEN_TRUE = { when: (value: unknown): boolean => value === true, whenText: '`true`' };
const WHEN_ENABLED = {
  when: (value: unknown): boolean => isMap(value) && value.enabled === true,
  whenText: '`enabled: true`',
};

const NO_EFFECT = 'Gatehouse ignores it';
const SECOND_FACTOR_MOVE =
  'must register a security key (WebAuthn) in the portal to pass two_factor rules; until then two_factor resources refuse them';

/** More specific entries come before the subtree that contains them: the first matching entry for a path wins. */
export const AUTHELIA_KEYS: readonly AutheliaKeyEntry[] = [
  // ---- renamed: Authelia still reads these older names, and so does Gatehouse (mapped before anything else) ----
  ...(['logs_level', 'log_level'] as const).map(
    (key): AutheliaKeyEntry => ({ key, action: 'map', to: 'log.level', text: 'read as log.level' }),
  ),
  { key: 'log_format', action: 'map', to: 'log.format', text: 'read as log.format' },
  ...(['logs_file', 'log_file_path'] as const).map(
    (key): AutheliaKeyEntry => ({ key, action: 'map', to: 'log.file_path', text: 'read as log.file_path' }),
  ),
  { key: 'host', action: 'map', to: 'server.host', text: 'read as server.host, then as part of server.address' },
  { key: 'port', action: 'map', to: 'server.port', text: 'read as server.port, then as part of server.address' },
  { key: 'tls_key', action: 'map', to: 'server.tls.key', text: 'read as server.tls.key' },
  { key: 'tls_cert', action: 'map', to: 'server.tls.certificate', text: 'read as server.tls.certificate' },
  {
    key: 'server.host',
    action: 'map',
    to: 'server.address',
    with: ['server.port', 'server.path'],
    convert: serverAddress,
    text: "read together with server.port and server.path (any of them) as server.address, e.g. 'tcp://0.0.0.0:9091'; a path other than '/' is refused",
  },
  { key: 'server.read_buffer_size', action: 'map', to: 'server.buffers.read', text: 'read as server.buffers.read' },
  { key: 'server.write_buffer_size', action: 'map', to: 'server.buffers.write', text: 'read as server.buffers.write' },
  {
    key: 'server.enable_pprof',
    action: 'map',
    to: 'server.endpoints.enable_pprof',
    text: 'read as server.endpoints.enable_pprof',
  },
  {
    key: 'server.enable_expvars',
    action: 'map',
    to: 'server.endpoints.enable_expvars',
    text: 'read as server.endpoints.enable_expvars',
  },
  {
    key: 'jwt_secret',
    action: 'map',
    to: 'identity_validation.jwt_secret',
    secret: true,
    text: 'read as identity_validation.jwt_secret, which signs the emailed links',
  },
  {
    key: 'identity_validation.reset_password.jwt_secret',
    action: 'map',
    to: 'identity_validation.jwt_secret',
    secret: true,
    text: 'read as identity_validation.jwt_secret, which signs the emailed links (Gatehouse has no password reset)',
  },
  {
    key: 'session.remember_me_duration',
    action: 'map',
    to: 'session.remember_me',
    text: 'read as session.remember_me',
  },
  {
    key: 'session.domain',
    action: 'map',
    to: 'session.cookies',
    with: ['default_redirection_url'],
    withOnlyAlongside: true,
    convert: sessionCookies,
    text: 'cannot be completed: the portal URL this single-domain form took from the proxy must be written, so it is refused with the session.cookies entry to write (domain, authelia_url, default_redirection_url)',
  },
  {
    key: 'default_redirection_url',
    action: 'map',
    to: singleCookieRedirect,
    text: 'read as session.cookies[0].default_redirection_url when there is one cookie domain',
  },
  {
    key: 'authentication_backend.disable_reset_password',
    action: 'map',
    to: 'authentication_backend.password_reset.disable',
    text: 'read as authentication_backend.password_reset.disable',
  },
  {
    key: 'storage.postgres.host',
    action: 'map',
    to: 'storage.postgres.address',
    with: ['storage.postgres.port'],
    convert: postgresAddress,
    text: "read together with storage.postgres.port (either) as storage.postgres.address, e.g. 'tcp://db:5432'; a Unix socket is refused",
  },
  {
    key: 'storage.postgres.sslmode',
    action: 'map',
    to: 'storage.postgres.ssl.mode',
    text: 'read as storage.postgres.ssl.mode, then as storage.postgres.tls',
  },
  {
    key: 'storage.postgres.ssl',
    action: 'map',
    to: 'storage.postgres.tls',
    convert: postgresTls,
    text: 'read as storage.postgres.tls: mode require is skip_verify: true, verify-ca and verify-full check the certificate, disable is no TLS',
  },
  {
    key: 'notifier.smtp.host',
    action: 'map',
    to: 'notifier.smtp.address',
    with: ['notifier.smtp.port'],
    convert: smtpAddress,
    text: "read together with notifier.smtp.port (either) as notifier.smtp.address, e.g. 'submission://mail.example.com:587' (the scheme follows the port: 465 submissions, 587 submission, else smtp)",
  },
  {
    key: 'notifier.smtp.disable_verify_cert',
    action: 'map',
    to: 'notifier.smtp.tls.skip_verify',
    text: 'read as notifier.smtp.tls.skip_verify',
  },
  // Authelia 4.37's argon2id options, set beside the algorithm rather than under it (memory was in MiB, now KiB).
  ...(['iterations', 'parallelism', 'key_length', 'salt_length'] as const).map(
    (option): AutheliaKeyEntry => ({
      key: `authentication_backend.file.password.${option}`,
      action: 'map',
      to: `authentication_backend.file.password.argon2.${option}`,
      text: `read as authentication_backend.file.password.argon2.${option}`,
    }),
  ),
  {
    key: 'authentication_backend.file.password.memory',
    action: 'map',
    to: 'authentication_backend.file.password.argon2.memory',
    convert: ([mib]) => (typeof mib === 'number' ? { value: mib * 1024 } : 'must be a number of MiB'),
    text: 'read as authentication_backend.file.password.argon2.memory, in KiB (the older key counted MiB)',
  },
  {
    key: 'webauthn.selection_criteria.user_verification',
    action: 'map',
    to: 'webauthn.user_verification',
    text: 'read as webauthn.user_verification (Gatehouse reads the setting under that name)',
  },
  // ---- who gets in ----
  // LDAP keys under the older names Authelia still reads.
  ...(
    [
      ['url', 'address'],
      ['username_attribute', 'attributes.username'],
      ['mail_attribute', 'attributes.mail'],
      ['display_name_attribute', 'attributes.display_name'],
      ['group_name_attribute', 'attributes.group_name'],
    ] as const
  ).map(
    ([from, to]): AutheliaKeyEntry => ({
      key: `authentication_backend.ldap.${from}`,
      action: 'map',
      to: `authentication_backend.ldap.${to}`,
      text: `read as authentication_backend.ldap.${to}`,
    }),
  ),
  {
    key: 'server.tls',
    action: 'refuse',
    text:
      'Gatehouse does not serve TLS itself, so it would listen in plain HTTP (and accept any client where ' +
      'client_certificates limited them): terminate TLS at the proxy in front of Gatehouse and remove server.tls',
  },
  {
    key: 'identity_validation.elevated_session.require_second_factor',
    action: 'refuse',
    ...WHEN_TRUE,
    text:
      'Gatehouse elevates a session with an emailed link only, never by a second factor: it cannot require one ' +
      'for registering security keys; remove the key (or set it to false) to accept that',
  },
  {
    key: 'webauthn.filtering.prohibit_backup_eligibility',
    action: 'refuse',
    ...WHEN_TRUE,
    text:
      'Gatehouse cannot refuse synced (backup-eligible) passkeys; use webauthn.filtering.permitted_aaguids to ' +
      'allow only the authenticators you trust',
  },
  {
    key: 'webauthn.metadata',
    action: 'refuse',
    ...WHEN_ENABLED,
    text:
      'Gatehouse does not check authenticators against the FIDO metadata service, so it would accept keys ' +
      'Authelia refuses; use webauthn.filtering.permitted_aaguids, or set webauthn.metadata.enabled to false',
  },
  // ---- where data lives ----
  {
    key: 'storage.mysql',
    action: 'refuse',
    text:
      'Gatehouse stores its data in PostgreSQL (storage.postgres) or in an embedded database for a single ' +
      'replica (storage.local.path), never in MySQL/MariaDB: configure storage.postgres; security keys move with ' +
      "'authelia storage user webauthn export' and 'gatehouse storage user webauthn import'",
  },
  // Client certificates: a server that demands one would refuse Gatehouse anyway; said plainly rather than as an unknown key.
  ...['session.redis', 'storage.postgres', 'notifier.smtp'].flatMap((section): AutheliaKeyEntry[] =>
    ['certificate_chain', 'private_key'].map((key) => ({
      key: `${section}.tls.${key}`,
      action: 'refuse',
      text: `Gatehouse cannot present a client certificate to this server: allow it to connect without one (password authentication), or keep Authelia`,
    })),
  ),
  // Authelia refuses it too (it was replaced by certificates_directory, without mapping).
  {
    key: 'notifier.smtp.trusted_cert',
    action: 'refuse',
    text: 'Authelia replaced it by certificates_directory; Gatehouse trusts an extra CA given to Node with NODE_EXTRA_CA_CERTS: set that and remove this key',
  },
  // ---- features whose absence fails closed ----
  {
    key: 'totp',
    action: 'warn',
    text: `Gatehouse has no one-time codes (TOTP): users who used TOTP ${SECOND_FACTOR_MOVE}`,
  },
  { key: 'duo_api', action: 'warn', text: `Gatehouse has no Duo push: users who used Duo ${SECOND_FACTOR_MOVE}` },
  {
    key: 'identity_providers',
    action: 'warn',
    text: 'Gatehouse is not an OpenID Connect provider: applications that sign in through it (OIDC clients) cannot sign in',
  },
  {
    key: 'ntp',
    action: 'warn',
    text: 'the clock is not checked against NTP at start: keep the host clock synchronised (sessions and emailed links depend on it)',
  },
  {
    key: 'password_policy',
    action: 'warn',
    text: 'the portal has no password change or reset, so no policy applies: administrators set passwords with `gatehouse hash-password`',
  },
  {
    key: 'authentication_backend.password_reset',
    action: 'warn',
    text: 'the portal offers no "forgot password" (nor a link to custom_url): an administrator sets new passwords in the users file',
  },
  {
    key: 'authentication_backend.password_change',
    action: 'warn',
    text: 'users cannot change their password in the portal',
  },
  {
    key: 'identity_validation.reset_password',
    action: 'warn',
    text: 'there is no password reset; emailed links are signed with identity_validation.jwt_secret',
  },
  {
    key: 'identity_validation.elevated_session',
    action: 'warn',
    text: 'elevation is by an emailed link valid for identity_validation.token_lifetime, lasting identity_validation.elevation_lifetime',
  },
  {
    key: 'authentication_backend.file.search',
    action: 'warn',
    text: 'users sign in with their exact username only (no email address, no case-insensitive match)',
  },
  {
    key: 'authentication_backend.file.extra_attributes',
    action: 'warn',
    text: 'extra user attributes are not read or sent',
  },
  ...['bcrypt', 'pbkdf2', 'scrypt', 'sha2crypt'].map(
    (algorithm): AutheliaKeyEntry => ({
      key: `authentication_backend.file.password.${algorithm}`,
      action: 'warn',
      text: 'new hashes are always argon2id (existing bcrypt and sha512-crypt hashes still verify)',
    }),
  ),
  { key: 'default_2fa_method', action: 'warn', text: 'the only second factor is a security key (WebAuthn)' },
  {
    key: 'certificates_directory',
    action: 'warn',
    text: 'these CA certificates are not trusted, so TLS connections to servers they sign fail: give them to Node with NODE_EXTRA_CA_CERTS',
  },
  {
    key: 'storage.encryption_key',
    action: 'warn',
    text: "Gatehouse stores no TOTP secrets; what it stores (security keys' public keys, sign-in history) is not encrypted with this key",
  },
  {
    key: 'storage.postgres.servers',
    action: 'warn',
    text: 'Gatehouse connects only to storage.postgres.address: when it is down, sign-in fails (503) instead of failing over',
  },
  {
    key: 'webauthn.metadata',
    action: 'warn',
    text: 'metadata checks are off in Authelia too (enabled: false); Gatehouse has none',
  },
  {
    key: 'webauthn.selection_criteria',
    action: 'warn',
    text: 'browsers may offer any authenticator type; user verification follows webauthn.user_verification',
  },
  {
    key: 'webauthn.experimental_enable_passkey_upgrade',
    action: 'warn',
    text: 'users are not offered to upgrade a security key to a passkey',
  },
  {
    key: 'webauthn.filtering.prohibit_backup_eligibility',
    action: 'warn',
    text: 'synced passkeys are accepted, as false asks',
  },
  // ---- presentation and tuning ----
  { key: 'theme', action: 'warn', text: 'the portal has one look' },
  { key: 'privacy_policy', action: 'warn', text: 'no privacy policy link is shown and no acceptance is asked' },
  // definitions.network is read (schema.ts); user attributes only feed OpenID Connect claims, which Gatehouse has none of.
  { key: 'definitions.user_attributes', action: 'warn', text: NO_EFFECT },
  { key: 'server.asset_path', action: 'warn', text: 'the portal serves its own assets' },
  { key: 'server.disable_healthcheck', action: 'warn', text: NO_EFFECT },
  // server.endpoints.authz is read (schema.ts, authz-endpoints.ts); only these parts are not.
  { key: 'server.endpoints.enable_pprof', action: 'warn', text: 'Gatehouse has no profiling endpoints' },
  { key: 'server.endpoints.enable_expvars', action: 'warn', text: 'Gatehouse has no expvars endpoints' },
  {
    key: 'server.endpoints.rate_limits',
    action: 'warn',
    text: 'Gatehouse applies its own limits: regulation bans and the identity-email rate limit',
  },
  { key: 'server.headers', action: 'warn', text: 'the portal sends its own strict Content-Security-Policy' },
  { key: 'server.timeouts', action: 'warn', text: "Node's defaults apply" },
  {
    key: 'server.buffers',
    action: 'warn',
    text: "request headers up to Node's limit (16 KiB) are accepted; larger ones are refused with 431",
  },
  { key: 'log.file_path', action: 'warn', text: 'logs go to standard output only: collect them from there' },
  { key: 'log.keep_stdout', action: 'warn', text: 'logs go to standard output' },
  { key: 'telemetry.metrics.buffers', action: 'warn', text: NO_EFFECT },
  { key: 'telemetry.metrics.timeouts', action: 'warn', text: NO_EFFECT },
  { key: 'session.redis.timeout', action: 'warn', text: 'Redis commands time out after a fixed short time' },
  { key: 'session.redis.max_retries', action: 'warn', text: 'a failed Redis command is retried once' },
  {
    key: 'session.redis.minimum_idle_connections',
    action: 'warn',
    text: 'each replica uses one pipelined Redis connection',
  },
  {
    key: 'session.redis.maximum_active_connections',
    action: 'warn',
    text: 'each replica uses one pipelined Redis connection',
  },
  {
    key: 'session.redis.high_availability.route_by_latency',
    action: 'warn',
    text: 'every command goes to the Sentinel master',
  },
  {
    key: 'session.redis.high_availability.route_randomly',
    action: 'warn',
    text: 'every command goes to the Sentinel master',
  },
  ...['session.redis', 'storage.postgres', 'notifier.smtp'].map(
    (section): AutheliaKeyEntry => ({
      key: `${section}.tls.maximum_version`,
      action: 'warn',
      text: 'TLS up to 1.3 is allowed; the minimum follows tls.minimum_version',
    }),
  ),
  { key: 'notifier.template_path', action: 'warn', text: "emails use Gatehouse's own templates" },
  {
    key: 'notifier.smtp.startup_check_address',
    action: 'warn',
    text: 'the start-up check connects and authenticates without sending a mail',
  },
  {
    key: 'notifier.smtp.disable_require_tls',
    action: 'warn',
    text: 'TLS follows the address scheme: submission:// requires STARTTLS, submissions:// is TLS from the start, smtp:// uses STARTTLS when offered',
  },
  {
    key: 'notifier.smtp.disable_starttls',
    action: 'warn',
    text: 'STARTTLS follows the address scheme (smtp:// uses it whenever the server offers it)',
  },
  { key: 'notifier.smtp.disable_html_emails', action: 'warn', text: 'emails carry an HTML and a text part' },
];

/** Where a chain of older names ends: `host` is read as `server.host`, itself read as `server.address`. */
export function finalKey(to: string): string {
  const next = AUTHELIA_KEYS.find(
    (entry) =>
      entry.action === 'map' &&
      typeof entry.to === 'string' &&
      (entry.key === to || to.startsWith(`${entry.key}.`) || entry.with?.includes(to)),
  );
  return next && typeof next.to === 'string' ? finalKey(next.to) : to;
}
