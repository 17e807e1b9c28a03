// Issue 10 §4: the bench's wrk driver (bench/wrk.ts) against a real wrk and a real node:http server: the headers it
// is given reach the server, and its figures (requests, refusals) are read back. Counts, never timings.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findExecutable } from '../../../bench/processes.js';
import { runWrk } from '../../../bench/wrk.js';

const wrk = findExecutable('wrk');
if (wrk === undefined) throw new Error('wrk is not installed: `apt-get install wrk` (.ci/run installs it)');

describe('the bench drives its load with wrk', () => {
  let server: Server;
  let port: number;
  let answered = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      answered++;
      const ok = req.headers.cookie === 'session=a"b\\c' && req.headers['x-original-url'] === 'http://app.test/x?y=1';
      res.writeHead(ok ? 200 : 401, { 'Content-Length': '0' });
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the headers it is given and reads back what was answered', async () => {
    const headers = { Cookie: 'session=a"b\\c', 'X-Original-URL': 'http://app.test/x?y=1' };
    const result = await runWrk(wrk, { url: `http://127.0.0.1:${port}/`, headers, connections: 2, seconds: 1 });
    assert.ok(result.requests > 0);
    assert.equal(result.non2xx, 0);
    assert.equal(result.errors, 0);
    assert.ok(result.requests <= answered, 'wrk counts only answers the server gave');
    assert.ok(result.rps > 0 && result.p99 >= result.p50);
  });

  it('counts refusals', async () => {
    const result = await runWrk(wrk, {
      url: `http://127.0.0.1:${port}/`,
      headers: { Cookie: 'other' },
      connections: 2,
      seconds: 1,
    });
    assert.ok(result.requests > 0);
    assert.equal(result.non2xx, result.requests);
  });

  it('refuses a header value it cannot write into its script', async () => {
    await assert.rejects(
      runWrk(wrk, { url: `http://127.0.0.1:${port}/`, headers: { Cookie: 'a\nb' }, connections: 1, seconds: 1 }),
      /not printable ASCII/,
    );
  });
});
