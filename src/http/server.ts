// One node:http server for everything: the authz endpoints are answered directly (the hot path: Express's router
// and middleware cost more than the whole decision), the rest goes to the portal's Express app.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { requestIdOf } from './request-id.js';
import type { AuthzFlavour } from '../authz/target.js';

const AUTHZ_PATHS = new Map<string, AuthzFlavour>([
  ['/api/authz/auth-request', 'auth-request'],
  ['/api/authz/forward-auth', 'forward-auth'],
  ['/api/verify', 'verify'],
]);

export type AuthzHandler = (flavour: AuthzFlavour, req: IncomingMessage, res: ServerResponse) => Promise<void>;
export type PortalHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createGatehouseServer(authz: AuthzHandler, portal: PortalHandler): Server {
  const server = createServer({ maxHeaderSize: 16384, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const flavour = AUTHZ_PATHS.get(q < 0 ? url : url.slice(0, q));
    if (flavour !== undefined) {
      // Answers to the proxy carry only what it needs (no X-Request-Id); the handler takes the proxy's own request
      // ID (nginx $request_id, Traefik's) for its logs, and makes one only when it logs.
      void authz(flavour, req, res);
      return;
    }
    res.setHeader('X-Request-Id', requestIdOf(req));
    portal(req, res);
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
