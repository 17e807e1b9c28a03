// The floors for `npm run bench`: a bare node:http server that answers 200 with an empty body (Content-Length: 0,
// which lets a proxy keep the connection), and nothing else. BARE_MODE=get adds one Redis GET per request
// (ioredis, auto-pipelined like Gatehouse's client), which is what Gatehouse costs without its session cache.
// BARE_MODE=headers is sent Gatehouse's own request (the bench gives it the same headers) and reads the headers an
// authz decision needs, then answers with a pass's header list (identity headers included): what node:http itself
// costs for the same exchange, with no decision made. BARE_MODE=shared is that `headers` server in a process that has
// first done what a replica's own libraries do (shared-isolate.ts): what node:http costs once V8's shared caches have
// seen other streams. BARE_MODE=worker is that same process with the `headers` server moved into a worker thread,
// V8 isolate of its own, which never sees those libraries: what an authz path in an isolate of its own could reach
// (docs/design/authz-isolate.md).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isMainThread, Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';

/** In the worker thread of the `worker` floor: the `headers` server (the worker's env is a copy of the process's). */
const mode = isMainThread ? (process.env.BARE_MODE ?? 'none') : 'headers';
const port = Number(process.env.BARE_PORT ?? 19092);
const key = process.env.BARE_KEY ?? 'gh_bench_bare';

function answer(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': '0' });
  res.end();
}

let redis: Redis | undefined;
// Loaded only in this mode: the other floors' isolates must never see these libraries.
const release =
  mode === 'shared' || mode === 'worker' ? await (await import('./shared-isolate.js')).shareIsolate() : undefined;
if (mode === 'get') {
  redis = new Redis(process.env.BARE_REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  await redis.set(key, 'x'.repeat(300), 'EX', 600);
}

/** A pass as Gatehouse writes it for the bench user (authz/handler.ts `allowedHeaders`). */
const PASS = [
  'Content-Length',
  '0',
  'Cache-Control',
  'no-store',
  'Remote-User',
  'bench',
  'Remote-Groups',
  'dev',
  'Remote-Name',
  'Bench User',
  'Remote-Email',
  'bench@example.com',
];

function readAndPass(req: IncomingMessage, res: ServerResponse): void {
  const headers = req.headers;
  const seen = [headers['x-original-url'], headers['x-original-method'], headers['x-forwarded-for'], headers.cookie];
  res.writeHead(seen.every((value) => typeof value === 'string') ? 200 : 400, PASS);
  res.end();
}

/** The `worker` floor's main thread listens on nothing: its worker, this same file, answers on BARE_PORT. */
const worker = mode === 'worker' ? new Worker(new URL(import.meta.url)) : undefined;

const server = worker
  ? undefined
  : createServer(
      mode === 'headers' || mode === 'shared'
        ? readAndPass
        : redis
          ? (_req, res) => {
              redis.get(key).then(
                (value) => answer(res, value ? 200 : 404),
                () => answer(res, 503),
              );
            }
          : (_req, res) => answer(res, 200),
    );
if (server) {
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
}
process.on('SIGTERM', () => {
  server?.close();
  server?.closeAllConnections();
  void worker?.terminate();
  if (redis) void redis.del(key).finally(() => redis.disconnect());
  void release?.();
});
