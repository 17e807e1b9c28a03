// Real nginx and Caddy for end-to-end tests, run as this test's own processes (never the system services), on
// loopback ports chosen at run time, with configurations made from the shipped files (see proxy-configs.ts); plus
// the small app they protect, which echoes what it received, and an HTTPS client that speaks to a proxy as a
// browser would to a named site.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/process.js';
import {
  caddyLocalRoot,
  caddyTestConfig,
  nginxComposeTestSite,
  nginxMainConfig,
  nginxTestSite,
  selfSignedCertificate,
  writeFile,
  type Backends,
  type Listeners,
} from './proxy-configs.js';

export interface ProxyProcess {
  name: 'nginx' | 'caddy';
  httpsPort: number;
  httpPort: number;
  /** The CA that signed the proxy's certificate (none when it serves plain HTTP only). */
  ca: Buffer | undefined;
  /** Everything the process wrote (and nginx's error log), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

// Proxies left running by a crashed test would hold their ports: kill whatever is still ours when this process ends.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const START_TIMEOUT_MS = 20_000;

function launch(
  command: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  child.once('error', (error) => (output += `\n${command}: ${error.message}`));
  return { child, output: () => output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(force);
}

/**
 * Waits until the proxy answers `url` (for https, with a certificate `ca` vouches for: the TLS set-up is part of
 * being ready).
 */
async function waitUntilServing(
  ports: Listeners,
  url: string,
  ca: () => Buffer | undefined,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`proxy exited early:\n${output()}`);
    const trusted = ca();
    if (trusted !== undefined || url.startsWith('http:')) {
      try {
        await send({ ...ports, ca: trusted }, url, { method: 'HEAD', timeoutMs: 1_000 });
        return;
      } catch (error) {
        lastError = (error as Error).message;
      }
    }
    if (Date.now() > deadline)
      throw new Error(`proxy did not serve ${url} within ${START_TIMEOUT_MS} ms (${lastError}):\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function listeners(): Promise<Listeners> {
  return { httpPort: await freePort(), httpsPort: await freePort() };
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // nginx's workers drop root for `nobody`: they must be able to reach their temp paths in here.
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * nginx with nginx/example-site.conf (and the snippets it includes, unchanged) in front of the backends; `edit`
 * turns on what the shipped site leaves commented (the identity token snippet).
 */
export async function startNginx(backends: Backends, edit?: (site: string) => string): Promise<ProxyProcess> {
  const dir = tempDir('gatehouse-nginx-');
  const ports = await listeners();
  const tls = selfSignedCertificate(dir);
  const site = nginxTestSite(backends, ports, tls);
  return runNginx(dir, ports, edit ? edit(site) : site, 'https://app.example.com/', tls.ca);
}

/** nginx with the laptop stack's site (deploy/nginx/gatehouse.conf): plain HTTP on `httpPort`. */
export async function startComposeNginx(backends: Backends): Promise<ProxyProcess> {
  const dir = tempDir('gatehouse-nginx-');
  const ports = await listeners();
  return runNginx(dir, ports, nginxComposeTestSite(backends, ports), 'http://app.nginx.localhost/', undefined);
}

async function runNginx(
  dir: string,
  ports: Listeners,
  siteText: string,
  readyUrl: string,
  ca: Buffer | undefined,
): Promise<ProxyProcess> {
  const site = writeFile(join(dir, 'site.conf'), siteText);
  const main = writeFile(join(dir, 'nginx.conf'), nginxMainConfig(dir, site));
  const errorLog = join(dir, 'error.log');
  // -e: the error log from the very start, before the configuration (which also names it) is read.
  const { child, output } = launch('nginx', ['-c', main, '-p', `${dir}/`, '-e', errorLog], {});
  const fullOutput = () => `${output()}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  return supervise('nginx', dir, ports, child, fullOutput, readyUrl, () => ca);
}

/**
 * Caddy with caddy/Caddyfile in front of the backends; its certificates come from its own local CA. `edit` makes the
 * change an operator's guide asks for (the identity token's header in copy_headers).
 */
export async function startCaddy(backends: Backends, edit?: (caddyfile: string) => string): Promise<ProxyProcess> {
  const dir = tempDir('gatehouse-caddy-');
  const ports = await listeners();
  const caddyfile = caddyTestConfig(backends, ports, dir);
  const config = writeFile(join(dir, 'Caddyfile'), edit ? edit(caddyfile) : caddyfile);
  const { child, output } = launch('caddy', ['run', '--config', config, '--adapter', 'caddyfile'], {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
  });
  const root = caddyLocalRoot(dir);
  return supervise('caddy', dir, ports, child, output, 'https://app.example.com/', () =>
    existsSync(root) ? readFileSync(root) : undefined,
  );
}

/** Once the proxy serves `readyUrl`: the handle that stops it and removes its directory (also when it never did). */
async function supervise(
  name: ProxyProcess['name'],
  dir: string,
  ports: Listeners,
  child: ChildProcess,
  output: () => string,
  readyUrl: string,
  ca: () => Buffer | undefined,
): Promise<ProxyProcess> {
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(ports, readyUrl, ca, child, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, ...ports, ca: ca(), output, stop };
}

/** What the echo app received, as it reports it. */
export interface Echo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Header names and values exactly as received, in order (shows a header that arrived twice). */
  rawHeaders: string[];
  body: string;
}

export interface EchoUpstream {
  port: number;
  close(): Promise<void>;
}

/** The protected app: answers every request with a JSON description of it. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      };
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Echo': 'yes' }).end(JSON.stringify(echo));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SendOptions {
  method?: string;
  /** Headers; a `Host` here replaces the URL's (the SNI name stays the URL's host). */
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /**
   * The request line's target as written, e.g. the absolute form `https://secure.example.com/vault` (RFC 9112
   * §3.2.2), which a hostile client may pair with a Host header naming another host. Default: the URL's path and
   * query (origin form), as browsers send.
   */
  requestTarget?: string;
}

/**
 * A request for `url` (e.g. https://app.example.com/x) sent to the proxy on loopback (its https or http port, by the
 * URL's scheme), with the URL's host as Host header (and SNI name), as a browser that resolves that name to the
 * proxy would send it; a port in the URL goes into the Host header only, as it would through a published port.
 * Rejects when the proxy closes the connection or refuses the TLS handshake without an HTTP answer.
 */
export function send(
  proxy: Pick<ProxyProcess, 'httpsPort' | 'httpPort' | 'ca'>,
  url: string,
  options: SendOptions = {},
): Promise<Reply> {
  const target = new URL(url);
  const tls = target.protocol === 'https:';
  const common = {
    host: '127.0.0.1',
    port: tls ? proxy.httpsPort : proxy.httpPort,
    method: options.method ?? 'GET',
    path: options.requestTarget ?? `${target.pathname}${target.search}`,
    headers: { Host: target.host, ...options.headers },
    agent: false as const,
    timeout: options.timeoutMs ?? 10_000,
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    };
    const req = tls
      ? httpsRequest({ ...common, servername: target.hostname, ca: proxy.ca }, onResponse)
      : httpRequest(common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer from the proxy for ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The echo app's report in a reply, or a failure naming what came back instead. */
export function echoOf(reply: Reply): Echo {
  if (reply.headers['x-echo'] !== 'yes')
    throw new Error(`expected the app's answer, got ${reply.status}: ${reply.body.slice(0, 300)}`);
  return JSON.parse(reply.body) as Echo;
}
