// The `tls.minimum_version` key (Redis, PostgreSQL, SMTP) in Node's terms.
import type { SecureVersion } from 'node:tls';
import type { TlsConfig } from './schema.js';

export function minimumTlsVersion(tls: Pick<TlsConfig, 'minimum_version'> | undefined): SecureVersion {
  return tls?.minimum_version === 'TLS1.3' ? 'TLSv1.3' : 'TLSv1.2';
}
