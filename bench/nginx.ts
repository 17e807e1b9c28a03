// Real nginx for the bench, as operators run it: the laptop stack's site (deploy/nginx/gatehouse.conf, plain HTTP)
// with the shipped snippets from nginx/ included unchanged, only its addresses replaced, and `upstream gatehouse`
// pointed at whatever is measured (Gatehouse, or a bare server for the floor). The protected app is a `return 200`
// server of the same nginx, kept alive, so both pairs pay the same small app hop and only the auth_request differs.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { type Child, childPids, findExecutable, freePort, startChild, waitUntil } from './processes.js';

const SITE = 'deploy/nginx/gatehouse.conf';

export interface BenchNginx {
  port: number;
  /** The master and its worker(s), for their CPU time. */
  pids(): number[];
  stop(): Promise<void>;
}

export function nginxBinary(): string | undefined {
  return findExecutable('nginx');
}

/** Replaces each `find` (which must occur: a shipped file that drifted must fail loudly, not bench something else). */
function substitute(text: string, pairs: readonly [find: string, replace: string][]): string {
  let out = text;
  for (const [find, replace] of pairs) {
    if (!out.includes(find)) throw new Error(`${SITE}: '${find}' not found; did the shipped file change?`);
    out = out.split(find).join(replace);
  }
  return out;
}

/** The shipped site with the bench's addresses: nginx on `listen`, `upstream gatehouse` = `upstream`, apps = `app`. */
export function benchNginxSite(listen: number, upstream: number, app: number): string {
  return substitute(readFileSync(join(packageRoot, SITE), 'utf8'), [
    ['server gatehouse:9091;', `server 127.0.0.1:${upstream};`],
    // The app hop is not what is measured: keep its connections too, so it does not open one per request.
    ['server app:80;', `server 127.0.0.1:${app};\n    keepalive 32;`],
    ['server secure:80;', `server 127.0.0.1:${app};`],
    ['listen 80;', `listen 127.0.0.1:${listen};`],
    ['listen 80 default_server;', `listen 127.0.0.1:${listen} default_server;`],
    ['/etc/nginx/snippets/gatehouse/', `${join(packageRoot, 'nginx')}/`],
  ]);
}

function mainConfig(dir: string, site: string, app: number): string {
  return [
    'daemon off;',
    // One worker: the machine has two cores for nginx, the upstream and the load generator together.
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '    access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${join(dir, kind)};`),
    `    include ${site};`,
    `    server { listen 127.0.0.1:${app}; keepalive_requests 100000; location / { return 200 "app\\n"; } }`,
    '}',
    '',
  ].join('\n');
}

function status(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * nginx in front of `upstreamPort`; resolves once a request with `headers` (Host, the session cookie) for `path`
 * is let through to the app.
 */
export async function startNginx(
  binary: string,
  upstreamPort: number,
  path: string,
  headers: Record<string, string>,
): Promise<BenchNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-nginx-'));
  // nginx's workers drop root for `nobody`: they must be able to reach their temp paths in here.
  chmodSync(dir, 0o755);
  const [listen, app] = [await freePort(), await freePort()];
  const site = join(dir, 'site.conf');
  writeFileSync(site, benchNginxSite(listen, upstreamPort, app));
  const main = join(dir, 'nginx.conf');
  writeFileSync(main, mainConfig(dir, site, app));
  const child: Child = startChild(binary, ['-c', main, '-p', `${dir}/`, '-e', join(dir, 'error.log')]);
  const stop = async () => {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let last = 0;
    await waitUntil('nginx', child, async () => {
      last = await status(listen, path, headers);
      return true;
    });
    if (last !== 200) {
      const log = readFileSync(join(dir, 'error.log'), 'utf8').slice(-3000);
      throw new Error(`nginx did not let the bench's request through: ${last}\n${log}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { port: listen, pids: () => [child.pid, ...childPids(child.pid)], stop };
}
