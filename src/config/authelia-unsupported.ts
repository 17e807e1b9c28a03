// Keys Authelia's configuration has and Gatehouse does not honour (SPEC §3, issue 7): ONE table, each key with
// what Gatehouse does about it. Rule: a key that decides who gets in or where data lives, and that Gatehouse
// cannot honour, is refused (start-up stops, naming the key and what to do); a feature whose absence fails
// closed is warned about, saying what changes for the users. Nothing is dropped silently. Any key that is
// neither here nor in the schema is a mistake and stays an error.
import { isMap, type ConfigTree } from './yaml-files.js';
import type { ConfigProblem } from './problems.js';

/**
 * What Gatehouse does with an Authelia key present in the configuration.
 * - `refuse`: a problem at the key; `text` says why and what to do instead.
 * - `warn`: a warning; `text` says what changes for the users.
 * A later `map` action (an Authelia key renamed to a Gatehouse key, issue 8) fits in as
 * `{ action: 'map'; to: string }`: `applyAutheliaKeys` would move the value instead of removing it.
 */
export type AutheliaKeyAction = 'refuse' | 'warn';

export interface AutheliaKeyEntry {
  /** Dotted key path; the whole subtree under it is covered. */
  key: string;
  action: AutheliaKeyAction;
  text: string;
  /** Only when the value satisfies this (e.g. a security option switched on); else the next entry for the key. */
  when?: (value: unknown) => boolean;
}

const isTrue = (value: unknown): boolean => value === true;
const enabled = (value: unknown): boolean => isMap(value) && value.enabled === true;

const NO_EFFECT = 'Gatehouse ignores it';
const SECOND_FACTOR_MOVE =
  'must register a security key (WebAuthn) in the portal to pass two_factor rules; until then two_factor resources refuse them';

/** More specific entries come before the subtree that contains them: the first matching entry for a path wins. */
export const AUTHELIA_KEYS: readonly AutheliaKeyEntry[] = [
  // ---- who gets in ----
  { key: 'authentication_backend.ldap', action: 'refuse',
    text: 'Gatehouse has no LDAP backend and will not fall back to a users file: export the users to a users file in ' +
      "Authelia's format and set authentication_backend.file.path, or keep Authelia for this deployment" },
  { key: 'server.tls', action: 'refuse',
    text: 'Gatehouse does not serve TLS itself, so it would listen in plain HTTP (and accept any client where ' +
      'client_certificates limited them): terminate TLS at the proxy in front of Gatehouse and remove server.tls' },
  { key: 'session.domain', action: 'refuse',
    text: "is Authelia's older single-domain form: write it as session.cookies: [{ domain: ..., authelia_url: ... }]" },
  { key: 'identity_validation.elevated_session.require_second_factor', action: 'refuse', when: isTrue,
    text: 'Gatehouse elevates a session with an emailed link only, never by a second factor: it cannot require one ' +
      'for registering security keys; remove the key (or set it to false) to accept that' },
  { key: 'webauthn.filtering.prohibit_backup_eligibility', action: 'refuse', when: isTrue,
    text: 'Gatehouse cannot refuse synced (backup-eligible) passkeys; use webauthn.filtering.permitted_aaguids to ' +
      'allow only the authenticators you trust' },
  { key: 'webauthn.metadata', action: 'refuse', when: enabled,
    text: 'Gatehouse does not check authenticators against the FIDO metadata service, so it would accept keys ' +
      'Authelia refuses; use webauthn.filtering.permitted_aaguids, or set webauthn.metadata.enabled to false' },
  { key: 'webauthn.selection_criteria.user_verification', action: 'refuse', when: (value) => value === 'required',
    text: "Gatehouse reads this setting from webauthn.user_verification (Authelia's older key): set " +
      'webauthn.user_verification: required there and remove this key' },
  // ---- where data lives ----
  { key: 'storage.mysql', action: 'refuse',
    text: 'Gatehouse stores its data in PostgreSQL (storage.postgres) or in an embedded database for a single ' +
      'replica (storage.local.path), never in MySQL/MariaDB: configure storage.postgres; security keys move with ' +
      "'authelia storage user webauthn export' and 'gatehouse storage user webauthn import'" },
  // Client certificates: a server that demands one would refuse Gatehouse anyway; said plainly rather than as an unknown key.
  ...['session.redis', 'storage.postgres', 'notifier.smtp'].flatMap((section): AutheliaKeyEntry[] => ['certificate_chain', 'private_key'].map((key) => ({
    key: `${section}.tls.${key}`, action: 'refuse',
    text: `Gatehouse cannot present a client certificate to this server: allow it to connect without one (password authentication), or keep Authelia`,
  }))),
  // Older Authelia forms (Authelia maps them itself; Gatehouse asks for the current form).
  { key: 'storage.postgres.ssl', action: 'refuse', text: "is Authelia's older form: write storage.postgres.tls (server_name, skip_verify, minimum_version)" },
  { key: 'notifier.smtp.host', action: 'refuse', text: "is Authelia's older form: write notifier.smtp.address, e.g. 'submission://mail.example.com:587'" },
  { key: 'notifier.smtp.port', action: 'refuse', text: "is Authelia's older form: write notifier.smtp.address, e.g. 'submission://mail.example.com:587'" },
  // ---- features whose absence fails closed ----
  { key: 'totp', action: 'warn', text: `Gatehouse has no one-time codes (TOTP): users who used TOTP ${SECOND_FACTOR_MOVE}` },
  { key: 'duo_api', action: 'warn', text: `Gatehouse has no Duo push: users who used Duo ${SECOND_FACTOR_MOVE}` },
  { key: 'identity_providers', action: 'warn',
    text: 'Gatehouse is not an OpenID Connect provider: applications that sign in through it (OIDC clients) cannot sign in' },
  { key: 'ntp', action: 'warn',
    text: 'the clock is not checked against NTP at start: keep the host clock synchronised (sessions and emailed links depend on it)' },
  { key: 'password_policy', action: 'warn',
    text: 'the portal has no password change or reset, so no policy applies: administrators set passwords with `gatehouse hash-password`' },
  { key: 'authentication_backend.password_reset', action: 'warn',
    text: 'the portal offers no "forgot password" (nor a link to custom_url): an administrator sets new passwords in the users file' },
  { key: 'authentication_backend.password_change', action: 'warn', text: 'users cannot change their password in the portal' },
  { key: 'identity_validation.reset_password', action: 'warn',
    text: 'there is no password reset; emailed links are signed with identity_validation.jwt_secret' },
  { key: 'identity_validation.elevated_session', action: 'warn',
    text: 'elevation is by an emailed link valid for identity_validation.token_lifetime, lasting identity_validation.elevation_lifetime' },
  { key: 'jwt_secret', action: 'warn', text: 'emailed links are signed with identity_validation.jwt_secret: set that key instead' },
  { key: 'authentication_backend.refresh_interval', action: 'warn',
    text: 'user details are re-read when the users file changes (authentication_backend.file.watch), not on an interval' },
  { key: 'authentication_backend.file.search', action: 'warn',
    text: 'users sign in with their exact username only (no email address, no case-insensitive match)' },
  { key: 'authentication_backend.file.extra_attributes', action: 'warn', text: 'extra user attributes are not read or sent' },
  ...['bcrypt', 'pbkdf2', 'scrypt', 'sha2crypt'].map((algorithm): AutheliaKeyEntry => ({
    key: `authentication_backend.file.password.${algorithm}`, action: 'warn',
    text: 'new hashes are always argon2id (existing bcrypt and sha512-crypt hashes still verify)',
  })),
  { key: 'default_2fa_method', action: 'warn', text: 'the only second factor is a security key (WebAuthn)' },
  { key: 'default_redirection_url', action: 'warn',
    text: 'users who sign in without a target stay on the portal: set session.cookies[].default_redirection_url instead' },
  { key: 'certificates_directory', action: 'warn',
    text: 'these CA certificates are not trusted, so TLS connections to servers they sign fail: give them to Node with NODE_EXTRA_CA_CERTS' },
  { key: 'storage.encryption_key', action: 'warn',
    text: 'Gatehouse stores no TOTP secrets; what it stores (security keys\' public keys, sign-in history) is not encrypted with this key' },
  { key: 'storage.postgres.servers', action: 'warn',
    text: 'Gatehouse connects only to storage.postgres.address: when it is down, sign-in fails (503) instead of failing over' },
  { key: 'webauthn.metadata', action: 'warn', text: 'metadata checks are off in Authelia too (enabled: false); Gatehouse has none' },
  { key: 'webauthn.selection_criteria', action: 'warn',
    text: 'browsers may offer any authenticator type; user verification follows webauthn.user_verification' },
  { key: 'webauthn.experimental_enable_passkey_upgrade', action: 'warn', text: 'users are not offered to upgrade a security key to a passkey' },
  { key: 'webauthn.filtering.prohibit_backup_eligibility', action: 'warn', text: 'synced passkeys are accepted, as false asks' },
  // ---- presentation and tuning ----
  { key: 'theme', action: 'warn', text: 'the portal has one look' },
  { key: 'privacy_policy', action: 'warn', text: 'no privacy policy link is shown and no acceptance is asked' },
  // definitions.network is read (schema.ts); user attributes only feed OpenID Connect claims, which Gatehouse has none of.
  { key: 'definitions.user_attributes', action: 'warn', text: NO_EFFECT },
  { key: 'server.asset_path', action: 'warn', text: 'the portal serves its own assets' },
  { key: 'server.disable_healthcheck', action: 'warn', text: NO_EFFECT },
  // server.endpoints.authz is read (schema.ts, authz/endpoints.ts); only these parts are not.
  { key: 'server.endpoints.enable_pprof', action: 'warn', text: 'Gatehouse has no profiling endpoints' },
  { key: 'server.endpoints.enable_expvars', action: 'warn', text: 'Gatehouse has no expvars endpoints' },
  { key: 'server.endpoints.rate_limits', action: 'warn', text: 'Gatehouse applies its own limits: regulation bans and the identity-email rate limit' },
  { key: 'server.headers', action: 'warn', text: 'the portal sends its own strict Content-Security-Policy' },
  { key: 'server.timeouts', action: 'warn', text: "Node's defaults apply" },
  { key: 'server.buffers', action: 'warn', text: "request headers up to Node's limit (16 KiB) are accepted; larger ones are refused with 431" },
  { key: 'log.file_path', action: 'warn', text: 'logs go to standard output only: collect them from there' },
  { key: 'log.keep_stdout', action: 'warn', text: 'logs go to standard output' },
  { key: 'telemetry.metrics.buffers', action: 'warn', text: NO_EFFECT },
  { key: 'telemetry.metrics.timeouts', action: 'warn', text: NO_EFFECT },
  { key: 'session.redis.timeout', action: 'warn', text: 'Redis commands time out after a fixed short time' },
  { key: 'session.redis.max_retries', action: 'warn', text: 'a failed Redis command is retried once' },
  { key: 'session.redis.minimum_idle_connections', action: 'warn', text: 'each replica uses one pipelined Redis connection' },
  { key: 'session.redis.maximum_active_connections', action: 'warn', text: 'each replica uses one pipelined Redis connection' },
  { key: 'session.redis.high_availability.route_by_latency', action: 'warn', text: 'every command goes to the Sentinel master' },
  { key: 'session.redis.high_availability.route_randomly', action: 'warn', text: 'every command goes to the Sentinel master' },
  ...['session.redis', 'storage.postgres', 'notifier.smtp'].map((section): AutheliaKeyEntry => ({
    key: `${section}.tls.maximum_version`, action: 'warn', text: 'TLS up to 1.3 is allowed; the minimum follows tls.minimum_version',
  })),
  { key: 'notifier.template_path', action: 'warn', text: "emails use Gatehouse's own templates" },
  { key: 'notifier.smtp.startup_check_address', action: 'warn', text: 'the start-up check connects and authenticates without sending a mail' },
  { key: 'notifier.smtp.disable_require_tls', action: 'warn',
    text: 'TLS follows the address scheme: submission:// requires STARTTLS, submissions:// is TLS from the start, smtp:// uses STARTTLS when offered' },
  { key: 'notifier.smtp.disable_starttls', action: 'warn', text: 'STARTTLS follows the address scheme (smtp:// uses it whenever the server offers it)' },
  { key: 'notifier.smtp.disable_html_emails', action: 'warn', text: 'emails carry an HTML and a text part' },
];

/** Keys whose action depends on their value: a template there hides the value, so it cannot be waved through. */
const CONDITIONAL_KEYS = AUTHELIA_KEYS.filter((entry) => entry.when).map((entry) => entry.key);

export interface AutheliaKeyFindings {
  problems: ConfigProblem[];
  warnings: string[];
  /** Keys removed whatever their value (no conditional entry in them): nothing inside them matters any more. */
  removed: string[];
}

function autheliaKeyWarning(entry: AutheliaKeyEntry): string {
  return `key '${entry.key}' is an Authelia option Gatehouse does not support; it is ignored: ${entry.text}`;
}

/**
 * Applies the table to `tree` (in place, before strict validation): every listed key present is removed, with a
 * problem (refuse) or a warning (warn). Then the one rule that spans keys: a backend named without `file` is an
 * error, never the default users file.
 */
export function applyAutheliaKeys(tree: ConfigTree): AutheliaKeyFindings {
  const findings: AutheliaKeyFindings = { problems: [], warnings: [], removed: [] };
  const backendNamed = isMap(tree.authentication_backend) ? Object.keys(tree.authentication_backend) : [];
  for (const entry of AUTHELIA_KEYS) {
    const parts = entry.key.split('.');
    let node: unknown = tree;
    for (const part of parts.slice(0, -1)) node = isMap(node) && Object.hasOwn(node, part) ? node[part] : undefined;
    const leaf = parts[parts.length - 1]!;
    if (!isMap(node) || !Object.hasOwn(node, leaf)) continue;
    if (entry.when && !entry.when(node[leaf])) continue;
    delete node[leaf];
    if (!CONDITIONAL_KEYS.some((key) => key === entry.key || key.startsWith(`${entry.key}.`))) findings.removed.push(entry.key);
    if (entry.action === 'refuse') findings.problems.push({ path: entry.key, message: `is an Authelia option Gatehouse cannot honour: ${entry.text}` });
    else findings.warnings.push(autheliaKeyWarning(entry));
  }
  const backend = tree.authentication_backend;
  if (backendNamed.length > 0 && !backendNamed.includes('ldap') && isMap(backend) && !Object.hasOwn(backend, 'file')) {
    findings.problems.push({
      path: 'authentication_backend.file',
      message: 'is required when authentication_backend is configured: Gatehouse reads users only from a users file and will not fall back to ./users_database.yml',
    });
  }
  return findings;
}
