// The floor for `npm run bench`: a bare node:http server doing one Redis GET per request, nothing else.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.BARE_REDIS_URL ?? 'redis://127.0.0.1:6379');
const key = process.env.BARE_KEY ?? 'gh_bench_bare';
await redis.set(key, 'x'.repeat(300), 'EX', 600);

const server = createServer((_req, res) => {
  redis.get(key).then(
    (value) => {
      res.writeHead(value ? 200 : 404, { 'Content-Type': 'text/plain' });
      res.end('ok');
    },
    () => {
      res.writeHead(503).end();
    },
  );
});
server.listen(Number(process.env.BARE_PORT ?? 19092), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void redis.del(key).finally(() => redis.disconnect());
});
