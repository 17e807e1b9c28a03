// A tiny TLS-terminating reverse proxy for the browser tests: WebAuthn needs a secure context on a real host name,
// and the cookie domain needs a host under it, so the browser talks https to auth.example.com:<port> (resolved to
// 127.0.0.1 by Chromium's host-resolver rules) while Gatehouse listens on plain HTTP, as it does behind nginx.
import { createServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

// dist/test/e2e/helpers/ -> test/fixtures/tls/ (a test-only self-signed certificate for *.example.com).
const TLS_DIR = fileURLToPath(new URL('../../../../test/fixtures/tls/', import.meta.url));

export interface TlsProxy {
  port: number;
  /** Where requests go; set once Gatehouse listens (its config needs the proxy's port first). */
  setUpstream(url: string): void;
  close(): Promise<void>;
}

export async function startTlsProxy(): Promise<TlsProxy> {
  let upstream: URL | undefined;
  const server: Server = createServer(
    { key: readFileSync(`${TLS_DIR}example.com.key`), cert: readFileSync(`${TLS_DIR}example.com.crt`) },
    (req, res) => {
      if (upstream === undefined) {
        res.writeHead(502).end('no upstream');
        return;
      }
      // Host is kept (Gatehouse picks the portal by it); the peer becomes X-Forwarded-For as nginx would send it.
      const headers = {
        ...req.headers,
        'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
        'x-forwarded-proto': 'https',
      };
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(forward);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setUpstream(url) {
      upstream = new URL(url);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
