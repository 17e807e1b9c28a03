// One node:http server for everything: the authz endpoints are answered directly (the hot path: Express's router
// and middleware cost more than the whole decision), the rest goes to the portal's Express app.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AuthzFlavour } from '../authz/target.js';

const AUTHZ_PATHS = new Map<string, AuthzFlavour>([
  ['/api/authz/auth-request', 'auth-request'],
  ['/api/authz/forward-auth', 'forward-auth'],
  ['/api/verify', 'verify'],
]);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export type AuthzHandler = (flavour: AuthzFlavour, req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>;
export type PortalHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A request ID from the proxy when it is sane (so logs line up across hops), else a fresh one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export function createGatehouseServer(authz: AuthzHandler, portal: PortalHandler): Server {
  const server = createServer({ maxHeaderSize: 16384, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const requestId = requestIdOf(req);
    res.setHeader('X-Request-Id', requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const flavour = AUTHZ_PATHS.get(q < 0 ? url : url.slice(0, q));
    if (flavour !== undefined) {
      void authz(flavour, req, res, requestId);
      return;
    }
    portal(req, res);
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
