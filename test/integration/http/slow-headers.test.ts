// Slow-header clients (issue 8): a connection that never finishes its headers is answered 408 and closed once the
// 10 s header timeout has passed, within about a second (Node checks only every 30 s unless told otherwise).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { HEADERS_TIMEOUT_MS } from '../../../src/http/server.js';

describe('the header timeout is honoured', () => {
  let t: TestGatehouse;
  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'memory', storage: 'embedded' });
  });
  afterAll(() => t.close());

  it('a client sending a header line every second is cut off within ~1 s of the header timeout', async () => {
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    const started = performance.now();
    socket.write('GET /api/health HTTP/1.1\r\nHost: auth.example.com\r\n');
    let n = 0;
    const drip = setInterval(() => socket.write(`X-Slow-${n++}: a\r\n`), 1_000);
    const closedAfter = await new Promise<number>((resolve) => {
      socket.on('close', () => resolve(performance.now() - started));
      socket.on('error', () => undefined);
    });
    clearInterval(drip);
    assert.ok(closedAfter >= HEADERS_TIMEOUT_MS - 100, `closed after ${Math.round(closedAfter)} ms: too early`);
    assert.ok(
      closedAfter < HEADERS_TIMEOUT_MS + 1_500,
      `closed after ${Math.round(closedAfter)} ms (timeout ${HEADERS_TIMEOUT_MS} ms)`,
    );
    assert.match(received, /^HTTP\/1\.1 408 /);
  });
});
