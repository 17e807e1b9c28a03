// Test configurations for the real proxies, made from the SHIPPED files (nginx/, caddy/) by substituting addresses,
// ports and file locations only: what the tests prove is what operators copy. Every substitution must find its
// text, so a shipped file that drifts away from what the tests expect fails loudly instead of silently testing
// something else.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';

export interface Substitution {
  /** Literal text, replaced everywhere it occurs (it must occur at least once). */
  find: string;
  replace: string;
}

export function substitute(text: string, substitutions: readonly Substitution[], source: string): string {
  let out = text;
  for (const { find, replace } of substitutions) {
    if (!out.includes(find))
      throw new Error(`${source}: expected to find '${find}' to substitute; did the shipped file change?`);
    out = out.split(find).join(replace);
  }
  return out;
}

export function shippedFile(relativePath: string): string {
  return readFileSync(join(packageRoot, relativePath), 'utf8');
}

/** Where the test proxies send requests: Gatehouse, and one echo app standing in for every protected app. */
export interface Backends {
  gatehousePort: number;
  /** Further Gatehouse replicas: nginx's `upstream gatehouse` gets a `server` line for each, after gatehousePort's. */
  gatehouseReplicaPorts?: readonly number[];
  upstreamPort: number;
}

/** The `server` lines of nginx's `upstream gatehouse`: one per Gatehouse replica, as the shipped comment says. */
function nginxGatehouseServers(backends: Backends): string {
  return [backends.gatehousePort, ...(backends.gatehouseReplicaPorts ?? [])]
    .map((port) => `server 127.0.0.1:${port};`)
    .join('\n    ');
}

export interface Listeners {
  httpPort: number;
  httpsPort: number;
}

export interface TlsFiles {
  cert: string;
  key: string;
  /** The certificate itself: it is self-signed, so it is also the CA the client trusts. */
  ca: Buffer;
}

/** A self-signed certificate for example.com and *.example.com (the shipped configurations' domain). */
export function selfSignedCertificate(dir: string): TlsFiles {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=example.com',
      '-addext',
      'subjectAltName=DNS:example.com,DNS:*.example.com',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`openssl could not make a test certificate: ${result.error?.message ?? result.stderr}`);
  return { cert, key, ca: readFileSync(cert) };
}

/** The shipped example site with test addresses; the snippets it includes are read from nginx/ unchanged. */
export function nginxTestSite(backends: Backends, listeners: Listeners, tls: TlsFiles): string {
  return substitute(
    shippedFile('nginx/example-site.conf'),
    [
      { find: 'server gatehouse:9091;', replace: nginxGatehouseServers(backends) },
      { find: 'server app:80;', replace: `server 127.0.0.1:${backends.upstreamPort};` },
      { find: 'server secure:80;', replace: `server 127.0.0.1:${backends.upstreamPort};` },
      { find: 'listen 443 ', replace: `listen 127.0.0.1:${listeners.httpsPort} ` },
      { find: 'listen 80;', replace: `listen 127.0.0.1:${listeners.httpPort};` },
      { find: 'listen 80 default_server;', replace: `listen 127.0.0.1:${listeners.httpPort} default_server;` },
      { find: '/etc/ssl/gatehouse/fullchain.pem', replace: tls.cert },
      { find: '/etc/ssl/gatehouse/privkey.pem', replace: tls.key },
      { find: '/etc/nginx/snippets/gatehouse/', replace: `${join(packageRoot, 'nginx')}/` },
    ],
    'nginx/example-site.conf',
  );
}

/**
 * The laptop stack's nginx site (deploy/nginx/gatehouse.conf, port 80 in its container) on a loopback port, with the
 * shipped snippets it mounts.
 */
export function nginxComposeTestSite(backends: Backends, listeners: Listeners): string {
  return substitute(
    shippedFile('deploy/nginx/gatehouse.conf'),
    [
      { find: 'server gatehouse:9091;', replace: nginxGatehouseServers(backends) },
      { find: 'server app:80;', replace: `server 127.0.0.1:${backends.upstreamPort};` },
      { find: 'server secure:80;', replace: `server 127.0.0.1:${backends.upstreamPort};` },
      { find: 'listen 80;', replace: `listen 127.0.0.1:${listeners.httpPort};` },
      { find: 'listen 80 default_server;', replace: `listen 127.0.0.1:${listeners.httpPort} default_server;` },
      { find: '/etc/nginx/snippets/gatehouse/', replace: `${join(packageRoot, 'nginx')}/` },
    ],
    'deploy/nginx/gatehouse.conf',
  );
}

/**
 * nginx's main file (not shipped: every installation has its own) around a site: in the foreground, everything
 * under `prefix`, nothing of the system's nginx touched.
 */
export function nginxMainConfig(prefix: string, sitePath: string): string {
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    `    access_log ${join(prefix, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `    ${kind}_temp_path ${join(prefix, `${kind}_temp`)};`,
    ),
    `    include ${sitePath};`,
    '}',
    '',
  ].join('\n');
}

/**
 * The shipped Caddyfile with test addresses, after a global options block that only places Caddy: loopback ports,
 * certificates from Caddy's own local CA (no ACME), state under `dir`, no admin endpoint.
 */
export function caddyTestConfig(backends: Backends, listeners: Listeners, dir: string): string {
  const site = substitute(
    shippedFile('caddy/Caddyfile'),
    [
      { find: 'gatehouse:9091', replace: `127.0.0.1:${backends.gatehousePort}` },
      { find: 'app:80', replace: `127.0.0.1:${backends.upstreamPort}` },
      { find: 'secure:80', replace: `127.0.0.1:${backends.upstreamPort}` },
    ],
    'caddy/Caddyfile',
  );
  const globalOptions = [
    '{',
    '\tadmin off',
    `\thttp_port ${listeners.httpPort}`,
    `\thttps_port ${listeners.httpsPort}`,
    '\tdefault_bind 127.0.0.1',
    '\tlocal_certs',
    '\tskip_install_trust',
    `\tstorage file_system ${join(dir, 'data')}`,
    '}',
    '',
  ].join('\n');
  return globalOptions + site;
}

/** Caddy's local CA certificate, which signs the test sites' certificates. */
export function caddyLocalRoot(dir: string): string {
  return join(dir, 'data', 'pki', 'authorities', 'local', 'root.crt');
}

export function writeFile(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}
