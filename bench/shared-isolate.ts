// What a Gatehouse replica's own libraries do in its process besides answering the proxy, done once by the bench's
// `shared` floor before it listens (bare-server.ts): an ioredis client and a subscriber, a pg client when PostgreSQL
// is given, an Express app that answered requests, a pino logger. Each drives node's streams and event emitters with
// objects of its own shapes, and V8's inline caches in node's shared code (streams, events, the HTTP parser's
// callbacks) stop being monomorphic for good. A bare node:http server that did this first answers the same request
// 25-50% slower than one that did not (docs/decisions.md, "The floor a replica can reach"); that is the floor a
// process holding Redis and PostgreSQL clients can reach, whatever it decides.
import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How many of each: enough to make every call site in node's shared code see these objects more than once. */
const ROUNDS = 50;

/** Resolves with what closes the clients it keeps open (a replica keeps its own open too). */
export async function shareIsolate(): Promise<() => Promise<void>> {
  const { Redis } = await import('ioredis');
  const url = process.env.BARE_REDIS_URL ?? 'redis://127.0.0.1:6379';
  // As the session store and its invalidation channel: a client (auto-pipelined) and a subscriber, both kept open.
  const redis = new Redis(url, { enableAutoPipelining: true });
  const subscriber = new Redis(url);
  await subscriber.subscribe(`gh_bench_${process.pid}_shared`);
  for (let i = 0; i < ROUNDS; i++) {
    await redis.set(`gh_bench_${process.pid}_shared`, String(i), 'EX', 60);
    await redis.get(`gh_bench_${process.pid}_shared`);
    await redis.publish(`gh_bench_${process.pid}_shared`, String(i));
  }
  await redis.del(`gh_bench_${process.pid}_shared`);

  const postgresUrl = process.env.BARE_POSTGRES_URL;
  let postgres: { end(): Promise<void> } | undefined;
  if (postgresUrl) {
    // As storage's pool: a client kept open after its queries.
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    for (let i = 0; i < ROUNDS; i++) await client.query('SELECT $1::int AS n, now() AS at', [i]);
    postgres = client;
  }

  // As the portal: an Express app answering JSON and a page, on a loopback port, closed afterwards.
  const express = (await import('express')).default;
  const app = express();
  app.use(express.json());
  app.get('/api/state', (_req, res) => void res.json({ status: 'OK', data: { username: '' } }));
  app.get('/', (_req, res) => void res.type('html').send('<!doctype html><title>portal</title>'));
  const portal = app.listen(0, '127.0.0.1');
  await once(portal, 'listening');
  const { port } = portal.address() as AddressInfo;
  for (let i = 0; i < ROUNDS; i++) {
    for (const path of ['/api/state', '/']) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
    }
  }
  portal.close();

  // As the logger: pino writing asynchronously, as `serve` does.
  const pino = (await import('pino')).default;
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  for (let i = 0; i < ROUNDS; i++) logger.info({ round: i }, 'shared isolate');

  return async () => {
    redis.disconnect();
    subscriber.disconnect();
    await postgres?.end();
  };
}
