// Authelia's older keys that Gatehouse reads under their current name (issue 8): the conversions the `map`
// entries of the Authelia key table use when a value changes shape on the way (host + port into one address,
// PostgreSQL `ssl` into `tls`, the single-domain session into `session.cookies`). Facts follow Authelia's own
// mapping (internal/configuration/deprecation.go and its validators); the code is Gatehouse's.
import { isMap, type ConfigTree } from './yaml-files.js';

/** The new value, or a string saying why the old keys cannot be mapped (reported as a problem). */
export type Converted = { value: unknown } | string;

/** A port as Authelia accepts it (a number or decimal text); `undefined` when absent. */
function portOf(value: unknown, key: string): number | undefined | string {
  if (value === undefined) return undefined;
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) return `'${key}' must be a port number (0-65535)`;
  return Number(text) === 0 ? undefined : Number(text);
}

function hostOf(value: unknown, key: string): string | undefined | { error: string } {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return { error: `'${key}' must be a host name or address` };
  return value.includes(':') && !value.startsWith('[') ? `[${value}]` : value; // an IPv6 address in a URL
}

/** `server.host`, `server.port`, `server.path` → `server.address` (Authelia's default host and port fill the gaps). */
export function serverAddress([host, port, path]: readonly unknown[]): Converted {
  const h = hostOf(host, 'server.host');
  if (typeof h === 'object') return h.error;
  const p = portOf(port, 'server.port');
  if (typeof p === 'string') return p;
  if (path !== undefined && path !== '' && path !== '/') {
    return "'server.path' serves the portal under a path; Gatehouse serves it at the root only: give it a host name of its own (auth.example.com)";
  }
  return { value: `tcp://${h ?? ''}:${p ?? 9091}` };
}

/** `storage.postgres.host`, `.port` → `storage.postgres.address`; a Unix socket cannot be mapped. */
export function postgresAddress([host, port]: readonly unknown[]): Converted {
  const h = hostOf(host, 'storage.postgres.host');
  if (typeof h === 'object') return h.error;
  if (h?.startsWith('/'))
    return `'${h}' is a Unix socket; Gatehouse connects to PostgreSQL over TCP only: set storage.postgres.address to 'tcp://host:5432'`;
  const p = portOf(port, 'storage.postgres.port');
  if (typeof p === 'string') return p;
  return { value: `tcp://${h ?? 'localhost'}:${p ?? 5432}` };
}

/** `notifier.smtp.host`, `.port` → `notifier.smtp.address`; the scheme follows the port, as Authelia chooses it. */
export function smtpAddress([host, port]: readonly unknown[]): Converted {
  const h = hostOf(host, 'notifier.smtp.host');
  if (typeof h === 'object') return h.error;
  const p = portOf(port, 'notifier.smtp.port');
  if (typeof p === 'string') return p;
  const portNumber = p ?? 25;
  const scheme = portNumber === 465 ? 'submissions' : portNumber === 587 ? 'submission' : 'smtp';
  return { value: `${scheme}://${h ?? 'localhost'}:${portNumber}` };
}

/**
 * `storage.postgres.ssl` → `storage.postgres.tls`. libpq's modes: `disable` is no TLS (the key is dropped),
 * `require` encrypts without checking the certificate (skip_verify, as before), `verify-ca` and `verify-full` check
 * it (Gatehouse also checks the host name, which only fails closed). Files Authelia loaded cannot be mapped.
 */
export function postgresTls([ssl]: readonly unknown[]): Converted {
  if (!isMap(ssl)) return 'must be a map (mode: disable | require | verify-ca | verify-full)';
  for (const file of ['certificate', 'key']) {
    if (ssl[file] !== undefined && ssl[file] !== '') {
      return `'storage.postgres.ssl.${file}' is a client certificate, which Gatehouse cannot present: allow it to connect without one (password authentication)`;
    }
  }
  if (ssl.root_certificate !== undefined && ssl.root_certificate !== '') {
    return "'storage.postgres.ssl.root_certificate' cannot be loaded by Gatehouse: give the CA to Node with NODE_EXTRA_CA_CERTS and remove it";
  }
  const unknown = Object.keys(ssl).filter((key) => !['mode', 'root_certificate', 'certificate', 'key'].includes(key));
  if (unknown.length > 0) return `'storage.postgres.ssl.${unknown[0]}' is not an option of this older form`;
  const mode = ssl.mode ?? 'disable'; // Authelia's default
  if (mode === 'disable') return { value: undefined };
  if (mode === 'require') return { value: { skip_verify: true } };
  if (mode === 'verify-ca' || mode === 'verify-full') return { value: {} };
  return `'storage.postgres.ssl.mode' must be one of disable, require, verify-ca, verify-full, not '${String(mode)}'`;
}

/**
 * `session.domain` (with the top-level `default_redirection_url`) → `session.cookies`. Authelia's single-domain
 * form took the portal's URL from the proxy; Gatehouse needs it written, and guessing it would send users to a
 * host nobody chose: the mapped entry is shown so it can be completed.
 */
export function sessionCookies([domain, redirect]: readonly unknown[]): Converted {
  if (typeof domain !== 'string' || domain === '') return 'must be a domain name';
  const example = `session.cookies: [{ domain: '${domain}', authelia_url: 'https://auth.${domain}'${typeof redirect === 'string' ? `, default_redirection_url: '${redirect}'` : ''} }]`;
  return `Authelia's older single-domain form took the portal's URL from the proxy; Gatehouse needs it written: ${example}`;
}

/** The path of `session.cookies[0]` for the top-level `default_redirection_url`, only when there is exactly one cookie domain. */
export function singleCookieRedirect(tree: ConfigTree): string[] | string {
  const cookies = isMap(tree.session) ? tree.session.cookies : undefined;
  if (!Array.isArray(cookies) || cookies.length !== 1 || !isMap(cookies[0])) {
    return 'belongs to a cookie domain: set session.cookies[].default_redirection_url on the one it is for';
  }
  return ['session', 'cookies', '0', 'default_redirection_url'];
}
