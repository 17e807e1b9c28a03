// Keys Authelia's configuration has and Gatehouse does not support yet (SPEC §3): an existing Authelia
// configuration should start with a warning for each, not fail. Any key that is neither here nor in the
// schema is a mistake and stays an error.
import { isMap, type ConfigTree } from './yaml-files.js';

const AUTHELIA_UNSUPPORTED_KEYS: readonly string[] = [
  // top level
  'theme',
  'certificates_directory',
  'default_2fa_method',
  'default_redirection_url',
  'jwt_secret',
  'totp',
  'duo_api',
  'ntp',
  'password_policy',
  'privacy_policy',
  'identity_providers',
  'definitions',
  // server
  'server.asset_path',
  'server.disable_healthcheck',
  'server.endpoints',
  'server.headers',
  'server.timeouts',
  'server.tls',
  'server.buffers.write',
  // log
  'log.file_path',
  'log.keep_stdout',
  // telemetry
  'telemetry.metrics.buffers',
  'telemetry.metrics.timeouts',
  // authentication backend
  'authentication_backend.ldap',
  'authentication_backend.password_reset',
  'authentication_backend.password_change',
  'authentication_backend.refresh_interval',
  'authentication_backend.file.search',
  'authentication_backend.file.extra_attributes',
  'authentication_backend.file.password.bcrypt',
  'authentication_backend.file.password.pbkdf2',
  'authentication_backend.file.password.scrypt',
  'authentication_backend.file.password.sha2crypt',
  // identity validation
  'identity_validation.reset_password',
  'identity_validation.elevated_session',
  // session
  'session.domain',
  'session.redis.timeout',
  'session.redis.max_retries',
  'session.redis.minimum_idle_connections',
  'session.redis.high_availability.route_by_latency',
  'session.redis.high_availability.route_randomly',
  // storage
  'storage.encryption_key',
  'storage.mysql',
  'storage.postgres.servers',
  // notifier
  'notifier.template_path',
  'notifier.smtp.startup_check_address',
  'notifier.smtp.disable_require_tls',
  'notifier.smtp.disable_starttls',
  'notifier.smtp.disable_html_emails',
  // webauthn
  'webauthn.selection_criteria',
  'webauthn.metadata',
  'webauthn.experimental_enable_passkey_upgrade',
  'webauthn.filtering.prohibit_backup_eligibility',
];

const SPLIT_KEYS = AUTHELIA_UNSUPPORTED_KEYS.map((key) => key.split('.'));

function unsupportedKeyWarning(key: string): string {
  return `key '${key}' is an Authelia option Gatehouse does not support yet; it is ignored`;
}

/** Removes the unsupported keys present in `tree` (in place, before strict validation) and returns a warning for each. */
export function stripUnsupportedKeys(tree: ConfigTree): string[] {
  const warnings: string[] = [];
  SPLIT_KEYS.forEach((parts, index) => {
    let node: unknown = tree;
    for (const part of parts.slice(0, -1)) node = isMap(node) && Object.hasOwn(node, part) ? node[part] : undefined;
    const leaf = parts[parts.length - 1]!;
    if (isMap(node) && Object.hasOwn(node, leaf)) {
      delete node[leaf];
      warnings.push(unsupportedKeyWarning(AUTHELIA_UNSUPPORTED_KEYS[index]!));
    }
  });
  return warnings;
}
