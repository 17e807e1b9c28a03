// The front's forwarding hop (docs/design/authz-isolate.md, step 2), between real servers: a front on loopback TCP
// forwarding to a "main" server on a private Unix socket that accepts the front's word for the client address.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptForwarded, FORWARDED_PEER_HEADER, peerAddressOf } from '../../../src/authz/peer.js';
import { createForwarder, type Forwarder } from '../../../src/front/forward.js';
import { httpRequest } from '../../helpers/process.js';

/** A request to the front on loopback `port`, answered in full (test/helpers/process.ts `httpRequest`). */
const send = (
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
) => httpRequest(`http://127.0.0.1:${port}${options.path ?? '/'}`, options);

/** The body of a raw chunked HTTP/1.1 answer. */
function dechunk(raw: string): string {
  let rest = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let body = '';
  for (;;) {
    const size = Number.parseInt(rest.slice(0, rest.indexOf('\r\n')), 16);
    if (!(size > 0)) return body;
    rest = rest.slice(rest.indexOf('\r\n') + 2);
    body += rest.slice(0, size);
    rest = rest.slice(size + 2);
  }
}

const listening = (server: Server, ...args: unknown[]) =>
  new Promise<void>((resolve) => (server.listen as (...a: unknown[]) => void)(...args, () => resolve()));

describe('the front forwards to the main thread over a private Unix socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-front-'));
  const socketPath = join(dir, 'main.sock');
  let main: Server;
  let front: Server;
  let forwarder: Forwarder;
  let port: number;
  const upstreamClosed: string[] = [];
  const errors: Error[] = [];

  beforeAll(async () => {
    main = createServer((req, res) => {
      if (!acceptForwarded(req)) {
        res.writeHead(400).end('not from the front\n');
        return;
      }
      if (req.url === '/slow') {
        res.on('close', () => upstreamClosed.push(req.url!));
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('first part\n');
        return; // never ends: the client goes away first
      }
      if (req.url === '/not-modified') {
        res.writeHead(304, { ETag: '"v1"' }).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        res.writeHead(201, [
          'Set-Cookie',
          'a=1; Path=/',
          'Set-Cookie',
          'b=2; Path=/',
          'Content-Type',
          'application/json',
        ]);
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            peer: peerAddressOf(req),
            forgedSeen: req.headers[FORWARDED_PEER_HEADER] ?? null,
            cookie: req.headers.cookie ?? null,
            body,
          }),
        );
      });
    });
    await listening(main, socketPath);
    forwarder = createForwarder(socketPath, (error) => errors.push(error));
    front = createServer((req, res) => forwarder.forward(req, res));
    await listening(front, 0, '127.0.0.1');
    port = (front.address() as AddressInfo).port;
  });

  afterAll(async () => {
    forwarder.close();
    front.closeAllConnections();
    main.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await new Promise((resolve) => main.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a request and its body go on as they came; the answer and each Set-Cookie come back', async () => {
    const answer = await send(port, {
      method: 'POST',
      path: '/api/firstfactor?x=1',
      headers: { 'Content-Type': 'application/json', Cookie: 'gatehouse_session=abc; other=1' },
      body: '{"username":"john"}',
    });
    assert.equal(answer.status, 201);
    // Copied into this realm's array (node:http's arrays come from another one under Jest's VM modules).
    assert.deepEqual([...(answer.headers['set-cookie'] ?? [])], ['a=1; Path=/', 'b=2; Path=/']);
    const echoed = JSON.parse(answer.body) as Record<string, unknown>;
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.url, '/api/firstfactor?x=1');
    assert.equal(echoed.body, '{"username":"john"}');
    assert.equal(echoed.cookie, 'gatehouse_session=abc; other=1');
  });

  it("the client's address reaches the main thread in the front's header; a copy the client sent is dropped", async () => {
    const echoed = JSON.parse(
      (await send(port, { headers: { [FORWARDED_PEER_HEADER]: '10.9.9.9', Connection: 'keep-alive' } })).body,
    ) as Record<string, unknown>;
    assert.equal(echoed.peer, '127.0.0.1');
    assert.equal(echoed.forgedSeen, null, 'the main thread removed the header after reading it');
  });

  it('a chunked body is framed again: a request hidden in it never reaches the main thread as a request', async () => {
    const seen: string[] = [];
    const count = (req: IncomingMessage) => seen.push(req.url ?? '');
    main.on('request', count);
    try {
      const hidden = `GET /hidden HTTP/1.1\r\nHost: x\r\n${FORWARDED_PEER_HEADER}: 10.0.0.1\r\n\r\n`;
      const chunked = `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            `GET /smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`,
          );
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      // Whatever else comes after it on the kept connection, the main thread saw one request, with the body as body.
      await send(port, { path: '/after' });
      assert.match(raw, /^HTTP\/1\.1 201/);
      assert.deepEqual(seen, ['/smuggle', '/after']);
      assert.equal((JSON.parse(dechunk(raw)) as { body: string }).body, hidden);
    } finally {
      main.off('request', count);
    }
  });

  it('HEAD and 304 come back without a body', async () => {
    const head = await send(port, { method: 'HEAD', path: '/' });
    assert.equal(head.status, 201);
    assert.equal(head.body, '');
    const notModified = await send(port, { path: '/not-modified' });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, '"v1"');
    assert.equal(notModified.body, '');
  });

  it('a client that goes away takes its forwarded request with it', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/slow' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.end();
      setTimeout(() => reject(new Error('no first part')), 5000).unref();
    });
    for (let i = 0; i < 100 && upstreamClosed.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(upstreamClosed, ['/slow']);
    assert.deepEqual(errors, [], 'a client going away is not a failure to report');
  });

  it('a request that did not come through the front is refused by the main thread', async () => {
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer, 400);
  });
});

describe('the main thread out of reach', () => {
  it('answers a short 502, never a pass and never a stack trace, and says why to its caller', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-front-'));
    const errors: Error[] = [];
    const forwarder = createForwarder(join(dir, 'nobody.sock'), (error) => errors.push(error));
    const front = createServer((req, res) => forwarder.forward(req, res));
    await listening(front, 0, '127.0.0.1');
    try {
      const answer = await send((front.address() as AddressInfo).port, { path: '/api/authz/auth-request' });
      assert.equal(answer.status, 502);
      assert.equal(answer.body, 'Gatehouse cannot answer this request right now.\n');
      assert.equal(errors.length, 1);
    } finally {
      forwarder.close();
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
