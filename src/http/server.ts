// One node:http server for everything: the authz endpoints are answered directly (the hot path: Express's router
// and middleware cost more than the whole decision), the rest goes to the portal's Express app.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { requestIdOf } from '../observability/request-id.js';
import type { AuthzEndpoint } from '../config/authz-endpoints.js';
import { acceptForwarded } from '../authz/peer.js';

/** Time allowed for a request's headers (slow-header clients are dropped after this, with a 408). */
export const HEADERS_TIMEOUT_MS = 10_000;

export type AuthzHandler = (endpoint: AuthzEndpoint, req: IncomingMessage, res: ServerResponse) => void;
export type PortalHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** `endpoints`: the authz endpoints of `server.endpoints.authz` (config/schema.ts resolves them, defaults included). */
export interface GatehouseServerOptions {
  /** Give portal answers an X-Request-Id (default); the front worker leaves that to the main thread's server. */
  tagPortalRequests?: boolean;
  /**
   * The main thread's private listener behind the front worker: every request must carry the front's word for its
   * peer (authz/peer.ts); one without it did not come through the front, and is refused with 400.
   */
  forwardedOnly?: { onRefused(req: IncomingMessage): void };
}

const NOT_FORWARDED = 'Bad Request\n';

export function createGatehouseServer(
  authz: AuthzHandler,
  portal: PortalHandler,
  endpoints: readonly AuthzEndpoint[],
  options: GatehouseServerOptions = {},
): Server {
  const tagPortalRequests = options.tagPortalRequests ?? true;
  const forwardedOnly = options.forwardedOnly;
  const authzPaths = new Map(endpoints.map((endpoint) => [endpoint.path, endpoint]));
  // Node checks these timeouts only every `connectionsCheckingInterval` (30 s by default), which let a slow-header
  // client hold a connection ~35 s; checked every second, the 10 s header timeout holds to within a second.
  const server = createServer(
    {
      maxHeaderSize: 16384,
      requestTimeout: 30_000,
      headersTimeout: HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      if (forwardedOnly !== undefined && !acceptForwarded(req)) {
        forwardedOnly.onRefused(req);
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': NOT_FORWARDED.length });
        res.end(NOT_FORWARDED);
        return;
      }
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const endpoint = authzPaths.get(q < 0 ? url : url.slice(0, q));
      if (endpoint !== undefined) {
        // Answers to the proxy carry only what it needs (no X-Request-Id); the handler takes the proxy's own request
        // ID (nginx $request_id, Traefik's) for its logs, and makes one only when it logs.
        authz(endpoint, req, res);
        return;
      }
      if (tagPortalRequests) res.setHeader('X-Request-Id', requestIdOf(req));
      portal(req, res);
    },
  );
  // Proxies ask over connections they keep (docs/operators-guide.md, "Keeping the proxy's connections to Gatehouse
  // open"). An idle one is kept longer here than nginx keeps it (upstream keepalive_timeout, 60 s by default), so
  // nginx is the side that closes it and never sends a question down a connection Gatehouse is closing. Go's client
  // (Traefik, Caddy: 90 s, 2 min) retries a GET that meets a connection the server closed while idle.
  server.keepAliveTimeout = 65_000;
  return server;
}
